"""Words that name a unit after a value (7600 parameters, 2 bytes, 0.69 nats): not part of the answer.
A part whose variables include such a word keeps reading it as the variable."""

UNIT_WORDS = {
    # sizes and memory
    "byte", "bytes", "bit", "bits", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "kbit", "mbit",
    # information
    "nat", "nats", "shannon", "shannons", "ban", "bans", "dit", "dits", "hartley", "hartleys",
    # counts in networks
    "param", "params", "parameter", "parameters", "weight", "weights", "bias", "biases", "node", "nodes",
    "unit", "units", "neuron", "neurons", "filter", "filters", "kernel", "kernels", "connection", "connections",
    "activation", "activations", "element", "elements", "entry", "entries", "value", "values", "number", "numbers",
    "pixel", "pixels", "px", "epoch", "epochs", "step", "steps", "iteration", "iterations", "update", "updates",
    "sample", "samples", "example", "examples", "feature", "features", "map", "maps", "channel", "channels",
    "token", "tokens", "layer", "layers", "head", "heads", "dimension", "dimensions", "dims", "dim",
    "operation", "operations", "ops", "flop", "flops", "mac", "macs", "multiplication", "multiplications",
    "mult", "mults", "addition", "additions", "multiply-adds", "position", "positions", "cell", "cells",
    "class", "classes", "image", "images", "batch", "batches", "word", "words", "scalar", "scalars",
    "floats", "float", "gflops", "mflops", "tflops",
    # time and angles
    "second", "seconds", "sec", "secs", "ms", "millisecond", "milliseconds", "hour", "hours", "minute", "minutes",
    "degree", "degrees", "deg", "radian", "radians", "rad",
}
