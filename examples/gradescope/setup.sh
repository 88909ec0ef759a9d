#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
# Zip this folder together with a copy of the examcheck source tree (as ./examcheck-src)
# and your problem sets (as ./problems), and upload the zip as the autograder.
set -euo pipefail
apt-get install -y python3 python3-pip python3-venv >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet /autograder/source/examcheck-src
