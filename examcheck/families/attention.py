"""Attention and transformer blocks, counted the way PyTorch builds them.

* ``attention``: ``torch.nn.MultiheadAttention`` — parameter counts (with and
  without biases, ``kdim``/``vdim`` different from ``embed_dim``,
  ``add_bias_kv``), the shapes of Q, K, V, the scores and the output for a
  batch, the causal mask, multiply-accumulate counts; and scaled dot-product
  attention on small given matrices (exact where the inputs are rational).
* ``transformer``: ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``
  — parameters per sub-layer and per block, LayerNorm and embedding counts,
  FLOPs of a block, and sinusoidal positional encodings.

FLOPs convention: one multiply-accumulate (MAC) of a matrix product counts as
``flops_per_mac`` FLOPs (2 by default: a multiply and an add).  Only matrix
products are counted (projections, QKᵀ, weights·V, feed-forward layers);
biases, scaling, softmax, masking, LayerNorm, residual additions and
activations are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from examcheck.families import (
    NUMBER_VALUE,
    Conventions,
    Family,
    FamilyError,
    GivenError,
    Result,
    Solution,
    Step,
    Variant,
    register,
)
from examcheck.values import exact, show


def given_error(key: str, message: str) -> FamilyError:
    """A FamilyError that points at one given key (the loader reports that key's line)."""
    error = FamilyError(message)
    error.path = (key,)
    return error


POSITIVE = {"type": "integer", "minimum": 1}
COUNT = {"type": "integer", "minimum": 1, "maximum": 10**7}
MATRIX = {"type": "array", "minItems": 1, "maxItems": 16,
          "items": {"type": "array", "minItems": 1, "maxItems": 16, "items": NUMBER_VALUE}}
FLOPS_PER_MAC = {"type": "integer", "enum": [1, 2],
                 "description": "FLOPs per multiply-accumulate: 2 (the default: a multiply and an add) or 1"}


@dataclass(frozen=True)
class AttentionConventions(Conventions):
    bias: bool = field(default=True, metadata={"doc": "biases in the Q, K, V and output projections (given `bias`)"})
    batch_first: bool = field(default=True, metadata={"doc": "inputs/outputs are (N, L, E); false: (L, N, E) "
                                                              "(given `batch_first`)"})
    flops_per_mac: int = field(default=2, metadata={"doc": "FLOPs per multiply-accumulate (given `flops_per_mac`)"})


@dataclass(frozen=True)
class TransformerConventions(Conventions):
    bias: bool = field(default=True, metadata={"doc": "biases in linear layers and LayerNorms (given `bias`)"})
    flops_per_mac: int = field(default=2, metadata={"doc": "FLOPs per multiply-accumulate (given `flops_per_mac`)"})


def missing_companions(given: dict, needs: dict[str, list[str]]) -> list[GivenError]:
    """A key that means nothing without another (source_len without seq_len, ...) is an error, not ignored."""
    return [GivenError((key,), f"{key!r} needs {other!r} as well")
            for key, others in needs.items() if key in given for other in others if other not in given]


def _require_companions(given: dict, needs: dict[str, list[str]]) -> None:
    errors = missing_companions(given, needs)
    if errors:
        raise given_error(errors[0].path[0], errors[0].message)


def _matrix(rows, what: str) -> list[list[sp.Expr]]:
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise FamilyError(f"{what}: rows have different lengths")
    return [[exact(v) for v in row] for row in rows]


def _shape(m) -> tuple[int, int]:
    return len(m), len(m[0])


MAX_MASK_ENTRIES = 4096  # the mask matrix is listed up to this size; its counts always


def causal_visible(rows: int, cols: int) -> int:
    """Entries with j ≤ i in a rows×cols mask: Σ_i min(i + 1, cols)."""
    if cols >= rows:
        return rows * (rows + 1) // 2
    return cols * (cols + 1) // 2 + (rows - cols) * cols


def causal_mask(rows: int, cols: int) -> list[list[int]]:
    """1 where query i may attend to key j (j ≤ i, aligned top-left as PyTorch's is_causal), else 0."""
    return [[1 if j <= i else 0 for j in range(cols)] for i in range(rows)]


# ----------------------------------------------------------------------------- multi-head attention


def mha_parameters(embed: int, heads: int, kdim: int, vdim: int, bias: bool, bias_kv: bool) -> dict:
    """Parameters of nn.MultiheadAttention, per projection."""
    if embed % heads:
        raise given_error("num_heads", f"embed_dim {embed} is not divisible by num_heads {heads}")
    b = embed if bias else 0
    counts = {"q_proj": embed * embed + b, "k_proj": embed * kdim + b, "v_proj": embed * vdim + b,
              "out_proj": embed * embed + b}
    counts["in_proj"] = counts["q_proj"] + counts["k_proj"] + counts["v_proj"]
    counts["bias_kv"] = 2 * embed if bias_kv else 0
    counts["weights"] = embed * (2 * embed + kdim + vdim)
    counts["biases"] = 4 * b + counts["bias_kv"]
    counts["total"] = counts["weights"] + counts["biases"]
    return counts


def mha_macs(n: int, tgt: int, src: int, embed: int, kdim: int, vdim: int, extra_keys: int = 0) -> dict:
    """Multiply-accumulates of one forward pass (batch n, target length tgt, source length src;
    extra_keys learned keys (add_bias_kv) are appended after the projections)."""
    keys = src + extra_keys
    macs = {"q_proj": n * tgt * embed * embed, "k_proj": n * src * kdim * embed, "v_proj": n * src * vdim * embed,
            "scores": n * tgt * keys * embed, "context": n * tgt * keys * embed, "out_proj": n * tgt * embed * embed}
    macs["total"] = sum(macs.values())
    return macs


@register
class Attention(Family):
    name = "attention"
    solve_at_load = True  # cheap: given values it cannot use are reported at load, with the line
    summary = ("multi-head attention (PyTorch nn.MultiheadAttention): parameters, Q/K/V/score/output shapes, "
               "causal masks, MACs/FLOPs; scaled dot-product attention on given matrices")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "embed_dim": {**COUNT, "description": "d_model, the query/output feature size E"},
            "num_heads": {**COUNT, "description": "h; each head has E/h features"},
            "kdim": {**COUNT, "description": "feature size of the key input (default embed_dim)"},
            "vdim": {**COUNT, "description": "feature size of the value input (default embed_dim)"},
            "bias": {"type": "boolean", "description": "biases of the four projections (default true)"},
            "add_bias_kv": {"type": "boolean", "description": "learned bias_k and bias_v appended to K and V"},
            "batch": {**COUNT, "description": "N, the batch size (default 1)"},
            "seq_len": {**COUNT, "description": "L, the target (query) sequence length"},
            "source_len": {**COUNT, "description": "S, the source (key/value) length (default seq_len)"},
            "batch_first": {"type": "boolean", "description": "inputs/outputs are (N, L, E) (default true) "
                                                              "rather than (L, N, E)"},
            "causal": {"type": "boolean", "description": "query i attends only to keys j ≤ i"},
            "flops_per_mac": FLOPS_PER_MAC,
            "query": {**MATRIX, "description": "Q, L×d_k, for scaled dot-product attention on given numbers"},
            "key": {**MATRIX, "description": "K, S×d_k"},
            "value": {**MATRIX, "description": "V, S×d_v"},
            "scale": {**NUMBER_VALUE, "description": "score scale (default 1/√d_k)"},
        },
    }
    needs = {"embed_dim": ["num_heads"], "num_heads": ["embed_dim"], "query": ["key", "value"],
             "key": ["query", "value"], "value": ["query", "key"], "kdim": ["embed_dim"], "vdim": ["embed_dim"],
             "add_bias_kv": ["embed_dim"], "seq_len": ["embed_dim"], "source_len": ["seq_len"], "batch": ["seq_len"],
             "batch_first": ["seq_len"], "scale": ["query"]}
    results = (
        Result("head_dim", "integer", "E/h, the features per head"),
        Result("params.{projection}", "integer", "parameters of q_proj, k_proj, v_proj, out_proj, in_proj "
                                                 "(= q + k + v) or bias_kv"),
        Result("weights", "integer", "all weights"),
        Result("biases", "integer", "all biases (with bias_k and bias_v)"),
        Result("total_params", "integer", "all parameters, as PyTorch counts them"),
        Result("weight_shape.{projection}", "shape", "PyTorch weight shape (out, in) of q_proj, k_proj, v_proj, "
                                                     "out_proj, and in_proj when kdim = vdim = E"),
        Result("shape.{tensor}", "shape", "with seq_len: query_input, key_input, value_input, q, k, v, q_heads, "
                                          "k_heads, v_heads, scores, weights, context_heads, context, output "
                                          "(N, L, E layout), averaged_weights (N, L, S)"),
        Result("score_entries", "integer", "with seq_len: entries of the attention scores of the batch, N·h·L·S"),
        Result("mask", "matrix", "with causal: the L×S mask, 1 where query i may attend to key j (j ≤ i); "
                                 "listed up to 4096 entries"),
        Result("unmasked_entries", "integer", "with causal: score entries kept per head and sample"),
        Result("masked_entries", "integer", "with causal: score entries set to −∞ per head and sample"),
        Result("macs", "integer", "with seq_len: multiply-accumulates of one forward pass"),
        Result("macs.{product}", "integer", "MACs of q_proj, k_proj, v_proj, scores, context, out_proj"),
        Result("flops", "integer", "flops_per_mac × macs"),
        Result("flops.{product}", "integer", "flops_per_mac × macs.{product}"),
        Result("scores", "matrix", "with query/key/value: QKᵀ"),
        Result("scaled_scores", "matrix", "QKᵀ·scale (scale = 1/√d_k unless given)"),
        Result("attention_weights", "matrix", "row-wise softmax of the (masked) scaled scores"),
        Result("attention_output", "matrix", "attention_weights·V"),
        Result("attention_output_shape", "shape", "(L, d_v)"),
        Result("attention_weights_shape", "shape", "(L, S)"),
        Result("d_k", "integer", "columns of Q and K"),
        Result("causal_mask", "matrix", "with query/key/value and causal: 1 where j ≤ i"),
    )
    conventions = AttentionConventions
    example = {"embed_dim": 8, "num_heads": 2, "kdim": 4, "batch": 2, "seq_len": 3, "source_len": 3,
               "causal": True, "query": [[1, 0], [0, 1]], "key": [[1, 1], [0, 2]], "value": [[1, 2], [3, 4]]}
    notes = ("Counts follow torch.nn.MultiheadAttention. FLOPs count only matrix products, one multiply-accumulate = "
             "flops_per_mac FLOPs (default 2); biases, scaling, softmax and masking are not counted. The causal mask "
             "is aligned top-left (query i sees keys 0..i), as PyTorch's is_causal. Shapes are batch-first (N, L, E) "
             "unless batch_first: false (PyTorch's own default is sequence-first, (L, N, E)).")

    def check_given(self, given: dict) -> list[GivenError]:
        return missing_companions(given, self.needs)

    def solve(self, given: dict, conventions: AttentionConventions) -> Solution:
        _require_companions(given, self.needs)
        if "embed_dim" not in given and "query" not in given:
            raise FamilyError("give embed_dim and num_heads, or the matrices query, key and value")
        if given.get("causal") and "seq_len" not in given and "query" not in given:
            raise FamilyError("a causal mask needs seq_len (for shapes) or the matrices query, key and value")
        results: dict = {}
        steps: list[Step] = []
        display: dict = {}
        if "embed_dim" in given:
            self._counts(given, conventions, results, steps)
        if "query" in given:
            self._sdpa(given, results, steps, display)
        return Solution(results, steps, display=display)

    def variants(self, given: dict) -> list[Variant]:
        out = []
        if "embed_dim" in given and given.get("bias", True):
            out.append(Variant({**given, "bias": False}, "you left out the biases of the four projections "
                                                         "(one per output feature of Q, K, V and the output)"))
        if given.get("kdim", given.get("embed_dim")) != given.get("embed_dim") or \
                given.get("vdim", given.get("embed_dim")) != given.get("embed_dim"):
            out.append(Variant({k: v for k, v in given.items() if k not in ("kdim", "vdim")},
                               "the key and value projections take kdim and vdim inputs, not embed_dim"))
        if given.get("causal"):
            out.append(Variant({**given, "causal": False}, "the causal mask was ignored: query i may not "
                                                           "attend to keys after position i"))
        if "query" in given and "scale" not in given:
            out.append(Variant({**given, "scale": 1}, "the scores were not divided by √d_k"))
        if "seq_len" in given and given.get("batch_first", True):
            out.append(Variant({**given, "batch_first": False}, "this layer is batch-first: (N, L, E)"))
        if "seq_len" in given and given.get("flops_per_mac", 2) == 2:
            out.append(Variant({**given, "flops_per_mac": 1}, "that counts multiply-accumulates; "
                                                              "one MAC is 2 FLOPs here"))
        return out

    # -- counts and shapes

    def _counts(self, given: dict, conventions: AttentionConventions, results: dict, steps: list[Step]) -> None:
        e, h = given["embed_dim"], given["num_heads"]
        kdim, vdim = given.get("kdim", e), given.get("vdim", e)
        bias, bias_kv = conventions.bias, given.get("add_bias_kv", False)
        p = mha_parameters(e, h, kdim, vdim, bias, bias_kv)
        dh = e // h
        results["head_dim"] = dh
        for name in ("q_proj", "k_proj", "v_proj", "in_proj", "out_proj"):
            results[f"params.{name}"] = p[name]
        results["params.bias_kv"] = p["bias_kv"]
        results.update(weights=p["weights"], biases=p["biases"], total_params=p["total"])
        results["weight_shape.q_proj"] = (e, e)
        results["weight_shape.k_proj"] = (e, kdim)
        results["weight_shape.v_proj"] = (e, vdim)
        results["weight_shape.out_proj"] = (e, e)
        if kdim == e and vdim == e:
            results["weight_shape.in_proj"] = (3 * e, e)
        plus = " + " + str(e) if bias else ""
        steps += [
            Step("head size", f"d_head = E/h = {e}/{h} = {dh}"),
            Step("Q, K, V projections", f"W_Q: {e}×{e}{plus} = {p['q_proj']}; W_K: {e}×{kdim}{plus} = {p['k_proj']}; "
                                        f"W_V: {e}×{vdim}{plus} = {p['v_proj']} (the h heads split these, "
                                        "they do not multiply them)"),
            Step("output projection", f"W_O: {e}×{e}{plus} = {p['out_proj']}"),
        ]
        if bias_kv:
            steps.append(Step("bias_k and bias_v", f"2·{e} = {p['bias_kv']}"))
        steps.append(Step("total", f"{p['weights']} weights + {p['biases']} biases = {p['total']}"))
        if "seq_len" in given:
            self._shapes(given, conventions, results, steps, (e, h, kdim, vdim), bias_kv)

    def _shapes(self, given, conventions, results, steps, sizes, bias_kv) -> None:
        e, h, kdim, vdim = sizes
        n, tgt = given.get("batch", 1), given["seq_len"]
        src = given.get("source_len", tgt)
        keys = src + (1 if bias_kv else 0)
        dh = e // h

        def io(length, features):
            return (n, length, features) if conventions.batch_first else (length, n, features)

        shapes = {"query_input": io(tgt, e), "key_input": io(src, kdim), "value_input": io(src, vdim),
                  "q": io(tgt, e), "k": io(keys, e), "v": io(keys, e),
                  "q_heads": (n, h, tgt, dh), "k_heads": (n, h, keys, dh), "v_heads": (n, h, keys, dh),
                  "scores": (n, h, tgt, keys), "weights": (n, h, tgt, keys), "context_heads": (n, h, tgt, dh),
                  "context": io(tgt, e), "output": io(tgt, e), "averaged_weights": (n, tgt, keys)}
        for name, shape in shapes.items():
            results[f"shape.{name}"] = shape
        results["score_entries"] = n * h * tgt * keys
        layout = "batch-first (N, L, E)" if conventions.batch_first else "sequence-first (L, N, E)"
        steps.append(Step("shapes", f"{layout}; Q {show(shapes['q'])}, K {show(shapes['k'])}, "
                                    f"split into heads {show(shapes['q_heads'])}; scores QKᵀ per head "
                                    f"{show(shapes['scores'])}; output {show(shapes['output'])}"))
        if given.get("causal"):
            visible = causal_visible(tgt, keys)
            if tgt * keys <= MAX_MASK_ENTRIES:
                results["mask"] = causal_mask(tgt, keys)
            results["unmasked_entries"] = visible
            results["masked_entries"] = tgt * keys - visible
            steps.append(Step("causal mask", f"query i sees keys j ≤ i: {visible} of {tgt}·{keys} score entries "
                                             f"are kept, {tgt * keys - visible} are set to −∞ before the softmax"))
        macs = mha_macs(n, tgt, src, e, kdim, vdim, keys - src)
        per_mac = conventions.flops_per_mac
        for name, value in macs.items():
            label = "" if name == "total" else f".{name}"
            results[f"macs{label}"] = value
            results[f"flops{label}"] = per_mac * value
        steps.append(Step("multiply-accumulates", f"projections N·L·E·E + N·S·(kdim + vdim)·E, scores and "
                                                  f"weights·V 2·N·L·S·E, output N·L·E·E = {macs['total']} MACs "
                                                  f"= {per_mac * macs['total']} FLOPs ({per_mac} per MAC)"))

    # -- scaled dot-product attention

    def _sdpa(self, given: dict, results: dict, steps: list[Step], display: dict) -> None:
        q, k, v = (_matrix(given[name], name) for name in ("query", "key", "value"))
        (tgt, dk), (src, dk2), (src2, dv) = _shape(q), _shape(k), _shape(v)
        if dk != dk2:
            raise given_error("key", f"query has {dk} columns but key has {dk2}: both must be d_k")
        if src != src2:
            raise given_error("value", f"key has {src} rows but value has {src2}: both must be the source length")
        scale = exact(given["scale"]) if "scale" in given else 1 / sp.sqrt(dk)
        raw = [[sum((q[i][a] * k[j][a] for a in range(dk)), sp.Integer(0)) for j in range(src)] for i in range(tgt)]
        scaled = [[s * scale for s in row] for row in raw]
        mask = causal_mask(tgt, src) if given.get("causal") else [[1] * src for _ in range(tgt)]
        weights = []
        for i in range(tgt):
            kept = [scaled[i][j] for j in range(src) if mask[i][j]]
            top = max(kept, key=lambda s: float(s))
            exps = [sp.exp(scaled[i][j] - top) if mask[i][j] else sp.Integer(0) for j in range(src)]
            total = sum(exps, sp.Integer(0))
            weights.append([x / total for x in exps])
        output = [[sum((weights[i][j] * v[j][c] for j in range(src)), sp.Integer(0)) for c in range(dv)]
                  for i in range(tgt)]
        results.update(scores=raw, scaled_scores=scaled, attention_weights=weights, attention_output=output,
                       attention_output_shape=(tgt, dv), attention_weights_shape=(tgt, src), d_k=dk)
        if given.get("causal"):
            results["causal_mask"] = mask
        display["attention_weights"] = _approx(weights)
        display["attention_output"] = _approx(output)
        steps += [
            Step("scores", f"QKᵀ = {show(raw)}"),
            Step("scale", (f"divide by √d_k = √{dk}" + (f" = {show(sp.sqrt(dk))}" if sp.sqrt(dk).is_Integer else "")
                           if "scale" not in given else f"multiply by {show(scale)}") + f": {show(scaled)}"),
        ]
        if given.get("causal"):
            steps.append(Step("causal mask", "entries with j > i are set to −∞ (weight 0)"))
        steps += [
            Step("softmax over each row (over the keys)", f"A = {show(_approx(weights))}"),
            Step("output", f"A·V = {show(_approx(output))}"),
        ]


def _approx(m):
    return [[float(x) for x in row] for row in m]


# ----------------------------------------------------------------------------- transformer blocks


def positional_encoding(pos: int, dim: int, d_model: int, base) -> sp.Expr:
    """PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(pos / base^(2i/d)) (Vaswani et al.)."""
    angle = sp.Integer(pos) / sp.Pow(base, sp.Rational(2 * (dim // 2), d_model))
    return sp.sin(angle) if dim % 2 == 0 else sp.cos(angle)


@register
class Transformer(Family):
    name = "transformer"
    solve_at_load = True  # cheap: given values it cannot use are reported at load, with the line
    summary = ("a transformer encoder or decoder block as PyTorch's nn.TransformerEncoderLayer/DecoderLayer: "
               "parameters, LayerNorm and embedding counts, FLOPs, sinusoidal positional encodings")
    given_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["d_model"],
        "properties": {
            "d_model": {**COUNT, "description": "the model width E"},
            "nhead": {**COUNT, "description": "attention heads"},
            "dim_feedforward": {**COUNT, "description": "hidden width of the feed-forward network (PyTorch's "
                                                        "default 2048)"},
            "block": {"enum": ["encoder", "decoder"], "description": "encoder (the default) or decoder layer"},
            "layers": {**COUNT, "description": "number of stacked blocks (default 1)"},
            "bias": {"type": "boolean", "description": "biases in linear layers and LayerNorms (default true)"},
            "final_norm": {"type": "boolean", "description": "a LayerNorm after the last block"},
            "vocab_size": {**COUNT, "description": "token embedding rows"},
            "max_len": {**COUNT, "description": "rows of a learned positional embedding"},
            "positional": {"enum": ["sinusoidal", "learned", "none"],
                           "description": "sinusoidal (default, no parameters) or learned (max_len·d_model)"},
            "batch": {**COUNT, "description": "N (default 1)"},
            "seq_len": {**COUNT, "description": "L, the (target) sequence length, for FLOPs"},
            "memory_len": {**COUNT, "description": "S, the encoder memory length for a decoder (default seq_len)"},
            "flops_per_mac": FLOPS_PER_MAC,
            "positions": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 10**6},
                          "minItems": 1, "maxItems": 64, "description": "positions whose encodings are asked"},
            "pe_base": {"type": "integer", "minimum": 2, "description": "the 10000 of the sinusoid"},
        },
    }
    needs = {"memory_len": ["seq_len"], "batch": ["seq_len"], "pe_base": ["positions"], "seq_len": ["nhead"],
             "max_len": ["nhead"], "positional": ["nhead"], "final_norm": ["nhead"], "layers": ["nhead"],
             "block": ["nhead"], "dim_feedforward": ["nhead"]}
    results = (
        Result("head_dim", "integer", "d_model/nhead"),
        Result("params.{part}", "integer", "parameters of self_attn, cross_attn (decoder), linear1, linear2, ffn "
                                           "(both linears), norm (one LayerNorm), norms (all of a block), block, "
                                           "blocks (all layers), final_norm, embedding, positional, layernorm"),
        Result("total_params", "integer", "blocks + final norm + token embedding + learned positions"),
        Result("macs", "integer", "with seq_len: multiply-accumulates of all blocks"),
        Result("macs.{part}", "integer", "MACs of self_attn, cross_attn, ffn, block"),
        Result("flops", "integer", "flops_per_mac × macs"),
        Result("flops.{part}", "integer", "flops_per_mac × macs.{part}"),
        Result("pe.{pos}", "vector", "sinusoidal encoding of position {pos} (d_model entries)"),
        Result("pe.{pos}.{dim}", "number", "entry {dim} (from 0) of the encoding of position {pos}"),
    )
    conventions = TransformerConventions
    example = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "block": "decoder", "seq_len": 3, "memory_len": 4,
               "vocab_size": 10, "max_len": 6, "final_norm": True, "positions": [0, 2]}
    notes = ("Parameters follow nn.TransformerEncoderLayer / DecoderLayer (dim_feedforward defaults to 2048 as there; "
             "with bias: false the LayerNorms have no β either). FLOPs count matrix products only, "
             "flops_per_mac (2) per multiply-accumulate. PE(pos, 2i) = sin(pos/10000^(2i/d)), "
             "PE(pos, 2i+1) = cos(...); dimensions are numbered from 0.")

    def check_given(self, given: dict) -> list[GivenError]:
        return missing_companions(given, self.needs)

    def solve(self, given: dict, conventions: TransformerConventions) -> Solution:
        _require_companions(given, self.needs)
        results: dict = {}
        steps: list[Step] = []
        e = given["d_model"]
        if "nhead" in given:
            self._parameters(given, conventions, results, steps)
        elif any(k in given for k in ("dim_feedforward", "seq_len", "block", "layers")):
            raise FamilyError("give nhead for a transformer block")
        results["params.layernorm"] = 2 * e if conventions.bias else e
        if "vocab_size" in given:
            results["params.embedding"] = given["vocab_size"] * e
            steps.append(Step("token embedding", f"vocab_size·d_model = {given['vocab_size']}·{e} = "
                                                 f"{results['params.embedding']}"))
        if "positions" in given:
            self._encodings(given, results, steps)
        return Solution(results, steps)

    def variants(self, given: dict) -> list[Variant]:
        out = []
        if given.get("bias", True):
            out.append(Variant({**given, "bias": False}, "you left out the biases (linear layers and LayerNorm β)"))
        if given.get("block") == "decoder":
            out.append(Variant({**given, "block": "encoder"}, "a decoder block also has cross-attention over the "
                                                              "encoder memory (and a third LayerNorm)"))
        if "nhead" in given and "dim_feedforward" not in given:
            out.append(Variant({**given, "dim_feedforward": 4 * given["d_model"]},
                               "PyTorch's default dim_feedforward is 2048, not 4·d_model"))
        if "seq_len" in given and given.get("flops_per_mac", 2) == 2:
            out.append(Variant({**given, "flops_per_mac": 1}, "that counts multiply-accumulates; one MAC is 2 FLOPs"))
        return out

    def _parameters(self, given: dict, conventions: TransformerConventions, results: dict, steps: list[Step]) -> None:
        e, h = given["d_model"], given["nhead"]
        f = given.get("dim_feedforward", 2048)
        bias = conventions.bias
        decoder = given.get("block", "encoder") == "decoder"
        attn = mha_parameters(e, h, e, e, bias, False)["total"]
        linear1, linear2 = e * f + (f if bias else 0), f * e + (e if bias else 0)
        norm = 2 * e if bias else e
        norms = (3 if decoder else 2) * norm
        block = attn * (2 if decoder else 1) + linear1 + linear2 + norms
        layers = given.get("layers", 1)
        results.update({"head_dim": e // h, "params.self_attn": attn, "params.linear1": linear1,
                        "params.linear2": linear2, "params.ffn": linear1 + linear2, "params.norm": norm,
                        "params.norms": norms, "params.block": block, "params.blocks": layers * block})
        if decoder:
            results["params.cross_attn"] = attn
        plus = lambda n: f" + {n}" if bias else ""  # noqa: E731
        steps += [
            Step("self-attention", f"4·{e}·{e}{plus(f'4·{e}')} = {attn}"),
            *([Step("cross-attention (decoder)", f"again {attn}")] if decoder else []),
            Step("feed-forward", f"linear1 {e}·{f}{plus(f)} = {linear1}; linear2 {f}·{e}{plus(e)} = {linear2}"),
            Step("LayerNorms", f"{3 if decoder else 2} × ({'γ and β: 2·' if bias else 'γ: '}{e}) = {norms}"),
            Step("one block", f"{block}" + (f"; {layers} blocks: {layers * block}" if layers > 1 else "")),
        ]
        total = layers * block
        if given.get("final_norm"):
            results["params.final_norm"] = norm
            total += norm
        if "vocab_size" in given:
            total += given["vocab_size"] * e
        positional = given.get("positional", "learned" if "max_len" in given else "sinusoidal")
        if positional == "learned":
            if "max_len" not in given:
                raise given_error("positional", "a learned positional embedding needs max_len")
            results["params.positional"] = given["max_len"] * e
            total += given["max_len"] * e
            steps.append(Step("learned positional embedding", f"max_len·d_model = {given['max_len'] * e}"))
        else:
            results["params.positional"] = 0
        results["total_params"] = total
        steps.append(Step("total parameters", str(total)))
        if "seq_len" in given:
            self._flops(given, conventions.flops_per_mac, results, steps, (e, f, decoder, layers))

    def _flops(self, given, per_mac, results, steps, sizes) -> None:
        e, f, decoder, layers = sizes
        n, tgt = given.get("batch", 1), given["seq_len"]
        macs = {"self_attn": mha_macs(n, tgt, tgt, e, e, e)["total"], "ffn": 2 * n * tgt * e * f}
        if decoder:
            macs["cross_attn"] = mha_macs(n, tgt, given.get("memory_len", tgt), e, e, e)["total"]
        macs["block"] = sum(macs.values())
        macs["total"] = layers * macs["block"]
        for name, value in macs.items():
            label = "" if name == "total" else f".{name}"
            results[f"macs{label}"] = value
            results[f"flops{label}"] = per_mac * value
        steps.append(Step("multiply-accumulates per block", f"self-attention 4·N·L·E² + 2·N·L²·E = {macs['self_attn']}"
                          + (f"; cross-attention {macs['cross_attn']}" if decoder else "")
                          + f"; feed-forward 2·N·L·E·F = {macs['ffn']}; block {macs['block']} MACs = "
                          f"{per_mac * macs['block']} FLOPs ({per_mac} per MAC; softmax, norms, biases not counted)"))

    def _encodings(self, given: dict, results: dict, steps: list[Step]) -> None:
        e, base = given["d_model"], sp.Integer(given.get("pe_base", 10000))
        if e * len(given["positions"]) > 16384:
            raise given_error("positions", "positional encodings are listed for at most 16384 entries "
                                           "(d_model × positions)")
        for pos in given["positions"]:
            row = [positional_encoding(pos, dim, e, base) for dim in range(e)]
            results[f"pe.{pos}"] = row
            for dim, value in enumerate(row):
                results[f"pe.{pos}.{dim}"] = value
        steps.append(Step("sinusoidal encoding", f"PE(pos, 2i) = sin(pos/{base}^(2i/{e})), "
                                                 f"PE(pos, 2i+1) = cos(pos/{base}^(2i/{e})); dimensions count from 0"))
