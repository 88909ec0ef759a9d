"""Words that name a unit after a value (7600 parameters, 2 bytes): not part of the answer."""

UNIT_WORDS = {"byte", "bytes", "bit", "bits", "kb", "mb", "gb", "param", "params", "parameter", "parameters",
              "weight", "weights", "node", "nodes", "unit", "units", "neuron", "neurons", "filter", "filters",
              "pixel", "pixels", "px", "epoch", "epochs", "step", "steps", "sample", "samples", "feature",
              "features", "map", "maps", "channel", "channels"}
