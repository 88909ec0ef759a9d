"""`attention` and `transformer` against independent oracles: PyTorch modules (parameters, shapes,
FLOPs by torch's own FlopCounterMode, F.scaled_dot_product_attention), NumPy, and hand-worked values
that still assert when torch is absent."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from examcheck.families import FamilyError, get

FAST = settings(max_examples=40, deadline=None)


def solve(name, given_values):
    return get(name).compute(given_values).results


# ----------------------------------------------------------------------------- hand-worked values


def test_mha_parameters_by_hand():
    # 4·512² + 4·512 (the "Attention is all you need" base model's attention sub-layer)
    assert solve("attention", {"embed_dim": 512, "num_heads": 8})["total_params"] == 1_050_624
    assert solve("attention", {"embed_dim": 512, "num_heads": 8, "bias": False})["total_params"] == 1_048_576
    # kdim = 3, vdim = 5: W_K is 8×3, W_V is 8×5
    r = solve("attention", {"embed_dim": 8, "num_heads": 2, "kdim": 3, "vdim": 5})
    assert (r["params.k_proj"], r["params.v_proj"], r["total_params"]) == (32, 48, 224)
    assert r["weight_shape.k_proj"] == (8, 3) and "weight_shape.in_proj" not in r


def test_heads_must_divide_the_width():
    with pytest.raises(FamilyError, match="divisible"):
        solve("attention", {"embed_dim": 10, "num_heads": 3})


def test_shapes_and_mask_by_hand():
    r = solve("attention", {"embed_dim": 8, "num_heads": 2, "batch": 2, "seq_len": 4, "causal": True})
    assert r["shape.q"] == (2, 4, 8) and r["shape.q_heads"] == (2, 2, 4, 4) and r["shape.scores"] == (2, 2, 4, 4)
    assert r["mask"] == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    assert (r["unmasked_entries"], r["masked_entries"]) == (10, 6)
    seq_first = solve("attention", {"embed_dim": 8, "num_heads": 2, "batch": 2, "seq_len": 4, "batch_first": False})
    assert seq_first["shape.output"] == (4, 2, 8)


def test_sdpa_exact_by_hand():
    # one query, two keys, d_k = 1: scores [0, 2]·1 → weights softmax([0, 2])
    r = solve("attention", {"query": [[1]], "key": [[0], [2]], "value": [[1, 0], [0, 1]]})
    e2 = sp.exp(2)
    assert sp.simplify(r["attention_weights"][0][1] - e2 / (1 + e2)) == 0
    assert sp.simplify(r["attention_output"][0][0] - 1 / (1 + e2)) == 0


def test_encoder_block_by_hand():
    # d = 512, h = 8, F = 2048: 4·512² + 4·512 + 2·512·2048 + 2048 + 512 + 2·2·512 = 3,152,384
    r = solve("transformer", {"d_model": 512, "nhead": 8, "dim_feedforward": 2048})
    assert r["params.block"] == 3_152_384
    assert solve("transformer", {"d_model": 512, "nhead": 8})["params.block"] == 3_152_384  # PyTorch's default F


def test_positional_encoding_by_hand():
    r = solve("transformer", {"d_model": 4, "positions": [0, 1, 2]})
    assert r["pe.0"] == [0, 1, 0, 1]
    assert r["pe.1.0"] == sp.sin(1) and r["pe.1.1"] == sp.cos(1)
    assert math.isclose(float(r["pe.2.2"]), math.sin(2 / 100))


# ----------------------------------------------------------------------------- NumPy oracles


def _numpy_sdpa(q, k, v, causal, scale=None):
    q, k, v = (np.array(m, dtype=float) for m in (q, k, v))
    s = q @ k.T * (scale if scale is not None else 1 / math.sqrt(q.shape[1]))
    if causal:
        s = np.where(np.tril(np.ones_like(s)) == 1, s, -np.inf)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return w, w @ v


small = st.integers(-3, 3)


@st.composite
def sdpa_problems(draw):
    tgt, src, dk, dv = (draw(st.integers(1, 4)) for _ in range(4))
    mat = lambda r, c: draw(st.lists(st.lists(small, min_size=c, max_size=c), min_size=r, max_size=r))  # noqa: E731
    return mat(tgt, dk), mat(src, dk), mat(src, dv), draw(st.booleans())


@FAST
@given(sdpa_problems())
def test_sdpa_matches_numpy(problem):
    q, k, v, causal = problem
    r = solve("attention", {"query": q, "key": k, "value": v, "causal": causal})
    w, out = _numpy_sdpa(q, k, v, causal)
    assert np.allclose(np.array(r["attention_weights"], dtype=float), w, atol=1e-12)
    assert np.allclose(np.array(r["attention_output"], dtype=float), out, atol=1e-12)
    assert r["attention_output_shape"] == out.shape


@FAST
@given(st.integers(1, 24), st.lists(st.integers(0, 500), min_size=1, max_size=3))
def test_positional_encoding_matches_numpy(d_half, positions):
    d = 2 * d_half
    r = solve("transformer", {"d_model": d, "positions": positions})
    for pos in positions:
        dims = np.arange(d)
        angles = pos / np.power(10000.0, (dims - dims % 2) / d)
        expected = np.where(dims % 2 == 0, np.sin(angles), np.cos(angles))
        assert np.allclose(np.array(r[f"pe.{pos}"], dtype=float), expected, atol=1e-12)


def test_causal_mask_counts_match_numpy():
    for tgt in range(1, 7):
        for src in range(1, 7):
            r = solve("attention", {"embed_dim": 4, "num_heads": 2, "seq_len": tgt, "source_len": src, "causal": True})
            tril = np.tril(np.ones((tgt, src), dtype=int))
            assert r["mask"] == tril.tolist() and r["unmasked_entries"] == int(tril.sum())


# ----------------------------------------------------------------------------- PyTorch oracles


def _torch():
    return pytest.importorskip("torch")


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


mha_configs = st.fixed_dictionaries({
    "heads": st.integers(1, 4), "head_dim": st.integers(1, 4), "kdim": st.none() | st.integers(1, 9),
    "vdim": st.none() | st.integers(1, 9), "bias": st.booleans(), "add_bias_kv": st.booleans(),
    "batch": st.integers(1, 3), "tgt": st.integers(1, 5), "src": st.integers(1, 5)})


@settings(max_examples=25, deadline=None)
@given(mha_configs)
def test_mha_matches_torch(c):
    torch = _torch()
    e = c["heads"] * c["head_dim"]
    g = {"embed_dim": e, "num_heads": c["heads"], "bias": c["bias"], "add_bias_kv": c["add_bias_kv"],
         "batch": c["batch"], "seq_len": c["tgt"], "source_len": c["src"]}
    kdim, vdim = c["kdim"] or e, c["vdim"] or e
    if c["kdim"]:
        g["kdim"] = kdim
    if c["vdim"]:
        g["vdim"] = vdim
    r = solve("attention", g)
    m = torch.nn.MultiheadAttention(e, c["heads"], bias=c["bias"], add_bias_kv=c["add_bias_kv"], kdim=kdim,
                                    vdim=vdim, batch_first=True)
    assert r["total_params"] == _count(m)
    q = torch.zeros(c["batch"], c["tgt"], e)
    k, v = torch.zeros(c["batch"], c["src"], kdim), torch.zeros(c["batch"], c["src"], vdim)
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out, averaged = m(q, k, v)
    _, per_head = m(q, k, v, average_attn_weights=False)
    assert r["shape.output"] == tuple(out.shape)
    assert r["shape.averaged_weights"] == tuple(averaged.shape)
    assert r["shape.weights"] == tuple(per_head.shape)
    assert r["flops"] == counter.get_total_flops()


@FAST
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 24), st.booleans(), st.sampled_from(["encoder", "decoder"]),
       st.integers(1, 4), st.integers(1, 4), st.integers(1, 2))
def test_transformer_block_matches_torch(heads, head_dim, ff, bias, block, tgt, src, batch):
    torch = _torch()
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    d = heads * head_dim
    g = {"d_model": d, "nhead": heads, "dim_feedforward": ff, "bias": bias, "block": block, "seq_len": tgt,
         "memory_len": src, "batch": batch}
    r = solve("transformer", g)
    cls = torch.nn.TransformerDecoderLayer if block == "decoder" else torch.nn.TransformerEncoderLayer
    layer = cls(d, heads, ff, bias=bias, batch_first=True, dropout=0.0)
    assert r["params.block"] == _count(layer)
    assert r["params.self_attn"] == _count(layer.self_attn)
    assert r["params.norm"] == _count(layer.norm1)
    layer.train()  # not the fused inference fast path
    x, memory = torch.zeros(batch, tgt, d), torch.zeros(batch, src, d)
    # the math backend runs attention as matrix products the counter sees (fused kernels are not counted)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        layer(x, memory) if block == "decoder" else layer(x)
    assert r["flops.block"] == counter.get_total_flops()


def test_transformer_stack_and_embeddings_match_torch():
    torch = _torch()
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32)
    stack = torch.nn.TransformerEncoder(layer, num_layers=3, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    emb, pos = torch.nn.Embedding(100, 16), torch.nn.Embedding(50, 16)
    r = solve("transformer", {"d_model": 16, "nhead": 4, "dim_feedforward": 32, "layers": 3, "final_norm": True,
                              "vocab_size": 100, "positional": "learned", "max_len": 50})
    assert r["total_params"] == _count(stack) + _count(emb) + _count(pos)
    assert r["params.embedding"] == _count(emb) and r["params.layernorm"] == _count(torch.nn.LayerNorm(16))


@FAST
@given(sdpa_problems())
def test_sdpa_matches_torch(problem):
    torch = _torch()
    q, k, v, causal = problem
    r = solve("attention", {"query": q, "key": k, "value": v, "causal": causal})
    tq, tk, tv = (torch.tensor(m, dtype=torch.float64) for m in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(tq[None], tk[None], tv[None], is_causal=causal)[0]
    assert np.allclose(np.array(r["attention_output"], dtype=float), out.numpy(), atol=1e-10)


def test_causal_mask_matches_torch():
    torch = _torch()
    for n in range(1, 6):
        r = solve("attention", {"embed_dim": 2, "num_heads": 1, "seq_len": n, "causal": True})
        additive = torch.nn.Transformer.generate_square_subsequent_mask(n)
        assert r["mask"] == (additive == 0).int().tolist()


# ----------------------------------------------------------------------------- mistakes


def test_attention_mistakes_are_computed():
    fam = get("attention")
    g = {"embed_dim": 8, "num_heads": 2, "kdim": 3, "vdim": 5, "seq_len": 4, "causal": True}
    texts = [v.feedback for v in fam.variants(g)]
    assert any("biases" in t for t in texts) and any("kdim" in t for t in texts) and any("causal" in t for t in texts)
    no_bias = next(v for v in fam.variants(g) if "biases" in v.feedback)
    assert fam.compute(no_bias.given).results["total_params"] == 192
    sdpa = {"query": [[1, 1]], "key": [[1, 0], [0, 1]], "value": [[1], [2]]}
    unscaled = next(v for v in fam.variants(sdpa) if "√d_k" in v.feedback)
    assert fam.compute(unscaled.given).results["scaled_scores"] == [[1, 1]]


def test_decoder_mistake_drops_cross_attention():
    fam = get("transformer")
    g = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "block": "decoder"}
    wrong = next(v for v in fam.variants(g) if "cross-attention" in v.feedback)
    right, as_encoder = fam.compute(g).results["params.block"], fam.compute(wrong.given).results["params.block"]
    assert right - as_encoder == 4 * 8 * 8 + 4 * 8 + 2 * 8


@FAST
@given(mha_configs, st.booleans(), st.booleans())
def test_every_computed_mistake_solves_or_says_why(c, causal, with_matrices):
    g = {"embed_dim": c["heads"] * c["head_dim"], "num_heads": c["heads"], "seq_len": c["tgt"], "causal": causal}
    if c["kdim"]:
        g["kdim"] = c["kdim"]
    if with_matrices:
        g.update(query=[[1, 0]], key=[[1, 1], [0, 2]], value=[[1], [2]])
    for name, extra in (("attention", {}), ("transformer", None)):
        given_values = g if extra is not None else {"d_model": g["embed_dim"], "nhead": g["num_heads"],
                                                    "seq_len": c["tgt"], "block": "decoder", "positions": [1]}
        fam = get(name)
        for variant in fam.variants(given_values):
            try:
                fam.compute(variant.given)
            except FamilyError as exc:
                assert str(exc)


def test_companion_keys_are_required():
    fam = get("attention")
    assert fam.check_given({"embed_dim": 8, "num_heads": 2, "source_len": 3})
    assert not fam.check_given({"embed_dim": 8, "num_heads": 2, "seq_len": 3, "source_len": 3})
    with pytest.raises(FamilyError, match="seq_len"):
        solve("attention", {"embed_dim": 8, "num_heads": 2, "batch": 3})
    with pytest.raises(FamilyError, match="nhead"):
        solve("transformer", {"d_model": 8, "dim_feedforward": 16})
