from examcheck.cli import main

main()
