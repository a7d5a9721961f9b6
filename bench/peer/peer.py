#!/usr/bin/env python3
"""Python/PyTorch peer of the S-LLMR engine's training loop (core/train/trainer.cpp), for the
side-by-side benchmark bench/compare.sh ("an engine clearly ahead of the same model in Python").

It trains the same backbone with the same batches, sampling and loss terms as the engine, written
as a competent researcher would write it in PyTorch: whole-batch tensor ops, no Python loop per
row or per user, torch.nn modules, torch.optim optimizers. Only the training batches of each epoch
are timed (like EpochResult::seconds; the engine's per-epoch validation AUC is not timed there
and not computed here).

    python3 bench/peer/peer.py --model deepfm --method selective --threads 1 --epochs 3 --json

Defaults are the engine's default run config (core/train/run_config.cpp defaultRunConfig(), the
bundled demo's shipped ml-latest-small split with the ChatGPT EXP_3 rankings): batch 128, 4 BCE
negatives per positive, lr 1e-3, dim 64, hidden [256, 128], dropout 0.1, lambda 0.1, margin 1,
K = 4 pairs per user from 4K candidates, reliability gate (entropy uncertainty, lr 1e-2, loss
weight 1). --config RUN.json reads the files and these settings from an engine run config
instead ('sllmr config template' writes one; only split method "given" is supported).

What is the same as the engine
- Data: the engine's loaders' rules for the given split: ids interned in first-seen order (train
  file, then test), repeated (user, item) rows dropped keeping the first, test pairs that are
  also in train dropped, the last training interaction (by time, then file order) of every user
  with >= 2 carved off as validation (50,973 train rows on the demo); genre CSR from
  genre_map.tsv (vocabulary = largest id + 1); LLM scores: first (user, item) row kept, unknown
  ids skipped, rank -> 1 - (rank-1)/N_u with N_u = max(rows of the user, largest rank);
  Cold(u) / Tail(i) thresholds = the segments' 20 % quantile rule (ties included).
- Epoch: a random permutation of the training rows, batches of 128 positives in that order
  (399 batches on the demo); per positive 4 uniform negatives, each redrawn while it is a training
  positive of the user (at most 1000 draws; users who rated every item are not checked).
- LLM pairs (methods global / selective): for every distinct user of the batch with >= 2 scored
  items, 16 random candidate pairs of distinct score entries, ties in r dropped, the K = 4 largest
  |r_i - r_j| kept (ties in the difference broken by the higher entry's index, as the engine's
  partial_sort comparator does), oriented higher -> lower.
- One forward over [positives, negatives, pair higher sides, pair lower sides]; BCE on logits
  over positives + negatives; hinge relu(margin - (s_i - s_j)); q = binary entropy (bits) of
  sigmoid(logit) without grad; z = [Cold(u), Tail(i), q]; a = sigmoid(w.z + b) (zero init);
  a_pair = mean of both sides; L_llm = mean(a_pair.detach() * hinge) (selective, reliability
  gate) or mean(hinge) (global, gate off); total = L_rec + lambda L_llm + 1.0 * BCE(a_pair of the
  labelled pairs, label) where a pair is labelled when exactly one side is a training positive.
  Gate Adam (lr 1e-2) steps only for selective. Per-segment gate activity (sum, share > 0.5,
  count over overall/cold/warm/tail/head/hist_k/pop_k) accumulated every batch as the engine
  does, vectorised.
- Backbones (core/model/*): same layers, sizes, dropout placement and initialisation
  distributions (embeddings N(0, 0.01), first-order weights 0, Linear Xavier-uniform with zero
  bias, DCNv1 cross vectors Xavier-uniform as [width, 1], DIN PReLU 0.25): mf, deepfm, dcnv2,
  xdeepfm, autoint (AutoInt+ with the DNN), dcnv1, din (last 10 training items, target masked
  out of its own history).
- Optimizers: embedding tables (Embedding / EmbeddingBag with sparse=True) by a lazy sparse Adam,
  everything else by torch.optim.Adam (lr 1e-3); deterministic algorithms on, as configureTorch
  sets them.

Known differences from the engine (none changes the work per batch in a way that matters)
- Random streams: Python's torch generator is seeded differently (and numbers are drawn in a
  different order), so the batches, negatives, pairs, dropout masks and initial weights are
  statistically the same but not bit-identical; losses agree in distribution, not per batch.
- Sparse optimizer: torch.optim.SparseAdam by default (the idiomatic equivalent). It shares one
  step count per table for the bias correction, where the engine's LazyAdam counts steps per row;
  --sparse-optimizer lazy runs a vectorised Python port of the engine's LazyAdam instead.
- Item feature bags: a padded [items, max genres] id matrix with EmbeddingBag(padding_idx) (mean
  over the real ids, zero for an item without genres) instead of the engine's CSR gather with
  offsets; same values, a few padded lookups more per item.
- Distinct users of a batch come from torch.unique (sorted) rather than first-seen order: only
  the row order of the pairs in the batch differs, not any loss.
- Not done here: the per-epoch validation AUC, progress reports, checkpoints, the final
  evaluation (none of them is inside the engine's timed epoch either); the engine's per-batch
  .item() of its three losses is mirrored.
- Only methods none / global / selective (gate mode reliability, entropy uncertainty, soft gate),
  BCE base loss and split method "given" are implemented; other settings are refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

try:
    import torch
except ModuleNotFoundError:  # e.g. a pyenv python3 first on PATH: use the system's python3-torch
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
import numpy as np
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.environ.get("SLLMR_DEMO_DIR") or os.path.join(REPO, "resources", "demo")
DEMO_SPLIT = "llm-rankings-ml-latest-small/split/"
DEMO_SCORES = "llm-rankings-ml-latest-small/chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv"
MODELS = ["mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"]


# ------------------------------------------------------------------------------------------------
# Settings: the engine's defaults, optionally read from an engine run config.


def default_settings():
    return {
        "seed": 42,
        "dataset": {
            "path": "demo:" + DEMO_SPLIT + "train.tsv",
            "test_path": "demo:" + DEMO_SPLIT + "test.tsv",
            "validation_path": "",
            "item_features_path": "demo:" + DEMO_SPLIT + "genre_map.tsv",
            "split": {"method": "given", "validation": "auto"},
            "segments": {"cold": {"mode": "quantile", "value": 0.2},
                         "tail": {"mode": "quantile", "value": 0.2}, "buckets": 5},
            "duplicates": "first",
        },
        "scores": {"path": "demo:" + DEMO_SCORES, "kind": "rank", "rank_mapping": "linear",
                   "decay": 0.1, "rating_min": 1.0, "rating_max": 5.0},
        "model": {"type": "mf", "dim": 64, "hidden": [256, 128], "cross_layers": 3,
                  "cin_layers": [32, 32], "attention_layers": 3, "attention_heads": 2,
                  "attention_dim": 32, "history_length": 10, "din_attention": [80, 40],
                  "dropout": 0.1, "item_features": True, "sparse_embeddings": True},
        "train": {"loss": "bce", "negatives": 4, "learning_rate": 1e-3, "batch_size": 128},
        "method": {"name": "selective", "lambda": 0.1, "margin": 1.0, "pairs_per_user": 4,
                   "candidate_factor": 4},
        "gate": {"mode": "reliability", "uncertainty": "entropy", "hard": False,
                 "inputs": {"cold": True, "tail": True, "uncertainty": True},
                 "tau_u": None, "tau_i": None, "tau_a": 0.5, "supervision": "train",
                 "learning_rate": 1e-2, "loss_weight": 1.0},
    }


def resolve_path(path, base_dir):
    if not path:
        return ""
    if path.startswith("demo:"):
        return os.path.join(DEMO, path[len("demo:"):])
    if base_dir and not os.path.isabs(path):
        return os.path.join(base_dir, path)
    return path


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v


def settings_from_args(args):
    s = default_settings()
    base = ""
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            merge(s, json.load(f))
        base = os.path.dirname(os.path.abspath(args.config))
    d = s["dataset"]
    for key in ("path", "test_path", "validation_path", "item_features_path"):
        d[key] = resolve_path(d.get(key, ""), base)
    s["scores"]["path"] = resolve_path(s["scores"].get("path", ""), base)
    if args.train:
        d["path"] = args.train
        d["test_path"] = args.test if args.test is not None else sibling(args.train, "test.tsv")
        d["validation_path"] = ""
        d["item_features_path"] = (args.items_file if args.items_file is not None
                                   else sibling(args.train, "genre_map.tsv"))
    else:
        if args.test is not None:
            d["test_path"] = args.test
        if args.items_file is not None:
            d["item_features_path"] = args.items_file
    if args.scores:
        s["scores"]["path"] = args.scores
    if args.model:
        s["model"]["type"] = args.model
    if args.method:
        s["method"]["name"] = args.method
    if args.seed is not None:
        s["seed"] = args.seed
    if s["method"]["name"] == "global":
        s["gate"]["mode"] = "off"  # as run_config.cpp forces it
    # What this peer implements; anything else is refused rather than silently approximated.
    checks = [
        (d["split"].get("method", "given") == "given", "only split method 'given' is implemented"),
        (d.get("implicit_threshold") is None, "implicit_threshold is not implemented"),
        (int(d.get("kcore", 0) or 0) <= 1, "k-core filtering is not implemented"),
        (d.get("format", "auto") in ("auto", "delimited"), "only delimited interaction files"),
        (s["model"]["type"] in MODELS, "unknown model type"),
        (s["train"].get("loss", "bce") == "bce", "only the BCE base loss is implemented"),
        (s["method"]["name"] in ("none", "global", "selective"),
         "only methods none, global and selective are implemented"),
        (not s["scores"].get("candidates_path"), "score candidate files are not implemented"),
        (s["scores"].get("held_out", "keep") == "keep", "scores.held_out 'drop' is not implemented"),
    ]
    if s["method"]["name"] == "selective":
        g = s["gate"]
        checks += [
            (g.get("mode") == "reliability", "only the reliability gate is implemented"),
            (g.get("uncertainty", "entropy") == "entropy",
             "only the entropy uncertainty is implemented"),
            (not g.get("hard", False), "the hard switch is not implemented"),
            (g.get("supervision", "train") == "train", "only train supervision is implemented"),
        ]
    for ok, why in checks:
        if not ok:
            sys.exit("peer.py: " + why)
    if (s["model"]["type"] != "mf" and s["model"].get("item_features", True)
            and not d.get("item_features_path") and d.get("items_path")):
        print("peer.py: warning: item features from the items file (genres of movies.csv or a "
              "RecBole .item file) are not read; the model runs without the feature field",
              file=sys.stderr)
    return s


def sibling(path, name):
    p = os.path.join(os.path.dirname(os.path.abspath(path)), name)
    return p if os.path.exists(p) else ""


# ------------------------------------------------------------------------------------------------
# Data: the engine's rules for a given train/test split (core/data/loaders.cpp, preprocess.cpp).


def read_delimited(path):
    """user, item, rating, time columns (0..3) of a delimited file; header auto-detected."""
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
    if not lines:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    delim = "\t" if "\t" in lines[0] else ","
    if not lines[0].split(delim)[0].strip().isdigit():
        lines = lines[1:]
    fields = [ln.split(delim) for ln in lines]
    users = np.array([int(r[0]) for r in fields], np.int64)
    items = np.array([int(r[1]) for r in fields], np.int64)
    if fields and len(fields[0]) >= 4:
        times = np.array([int(float(r[3])) for r in fields], np.int64)
    else:
        times = np.arange(len(fields), dtype=np.int64)
    return users, items, times


def first_seen_index(raw):
    """Dense indices in first-seen order: (index per row, raw id per index)."""
    uniq, first = np.unique(raw, return_index=True)
    rank = np.empty(len(uniq), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    ids = np.empty(len(uniq), np.int64)
    ids[rank] = uniq
    return rank[np.searchsorted(uniq, raw)], ids


def keep_first_pairs(u, i, n_items):
    key = u * n_items + i
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(u), bool)
    keep[first] = True
    return keep


class Data:
    pass


def load_data(s):
    d = s["dataset"]
    parts = [read_delimited(d["path"])]
    if d.get("test_path"):
        parts.append(read_delimited(d["test_path"]))
    if d.get("validation_path"):
        parts.append(read_delimited(d["validation_path"]))
    sizes = [len(p[0]) for p in parts]
    uidx, uids = first_seen_index(np.concatenate([p[0] for p in parts]))
    iidx, iids = first_seen_index(np.concatenate([p[1] for p in parts]))
    n_items0 = len(iids)
    rows = []
    start = 0
    for n, p in zip(sizes, parts):
        u, i, t = uidx[start:start + n], iidx[start:start + n], p[2]
        order = np.arange(n, dtype=np.int64)
        keep = keep_first_pairs(u, i, n_items0) if d.get("duplicates", "first") == "first" else None
        if keep is None:  # "last"
            keep = keep_first_pairs(u[::-1], i[::-1], n_items0)[::-1]
        rows.append([u[keep], i[keep], t[keep], order[keep]])
        start += n
    train_keys = rows[0][0] * n_items0 + rows[0][1]
    for k in range(1, len(rows)):
        ref = train_keys if k < 2 else np.concatenate([train_keys, rows[1][0] * n_items0 + rows[1][1]])
        drop = np.isin(rows[k][0] * n_items0 + rows[k][1], ref)
        rows[k] = [c[~drop] for c in rows[k]]
    # Compact ids to those still present (keeps the order).
    used_u = np.zeros(len(uids), bool)
    used_i = np.zeros(n_items0, bool)
    for r in rows:
        used_u[r[0]] = True
        used_i[r[1]] = True
    map_u = np.cumsum(used_u) - 1
    map_i = np.cumsum(used_i) - 1
    for r in rows:
        r[0] = map_u[r[0]]
        r[1] = map_i[r[1]]
    uids, iids = uids[used_u], iids[used_i]
    n_users, n_items = len(uids), len(iids)

    tu, ti, tt, to = rows[0]
    srt = np.lexsort((to, tt, tu))  # (user, time, order)
    tu, ti, tt, to = tu[srt], ti[srt], tt[srt], to[srt]
    val_mode = d["split"].get("validation", "auto")
    if val_mode == "auto":
        val_mode = "none" if d.get("validation_path") else "last"
    if val_mode == "last":
        counts = np.bincount(tu, minlength=n_users)
        last = np.r_[tu[1:] != tu[:-1], True]
        carve = last & (counts[tu] >= 2)
        tu, ti = tu[~carve], ti[~carve]
    elif val_mode not in ("none",):
        sys.exit("peer.py: validation '" + val_mode + "' is not implemented")

    data = Data()
    data.n_users, data.n_items = n_users, n_items
    data.user_ids, data.item_ids = uids, iids
    data.train_u, data.train_i = tu, ti
    data.history = np.bincount(tu, minlength=n_users)
    data.popularity = np.bincount(ti, minlength=n_items)
    data.features = load_features(d.get("item_features_path", ""), iids) \
        if s["model"].get("item_features", True) else None
    return data


def load_features(path, item_ids):
    """Padded [items, max features] id matrix and the vocabulary size, or None."""
    if not path:
        return None
    pos = {int(x): k for k, x in enumerate(item_ids)}
    by_item = [[] for _ in item_ids]
    max_feature, any_feature, first = 0, False, True
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t" if "\t" in line else ",")
            if first and not fields[0].strip().isdigit():
                first = False
                continue
            first = False
            k = pos.get(int(fields[0]))
            for x in fields[1:]:
                if not x.strip():
                    continue
                v = int(x)
                max_feature = max(max_feature, v)
                any_feature = True
                if k is not None:
                    by_item[k].append(v)
    if not any_feature:
        return None
    vocab = max_feature + 1
    width = max(1, max(len(b) for b in by_item))
    pad = np.full((len(item_ids), width), vocab, np.int64)  # padding id = vocab
    for k, b in enumerate(by_item):
        pad[k, :len(b)] = b
    return pad, vocab


def load_scores(s, data):
    """CSR of LLM scores by user (file order within a user), r in [0, 1]."""
    spec = s["scores"]
    user_pos = {int(x): k for k, x in enumerate(data.user_ids)}
    item_pos = {int(x): k for k, x in enumerate(data.item_ids)}
    with open(spec["path"], encoding="utf-8", newline="") as f:
        lines = [ln for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    delim = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=delim))
    head = [c.strip().lower() for c in rows[0]]
    aliases_u = ["userid", "user_id", "user", "uid", "user_id:token"]
    aliases_i = ["movieid", "itemid", "item_id", "item", "iid", "item_id:token"]
    aliases_v = ["rank", "score", "rating", "prediction", "probability", "value"]
    is_header = any(c in aliases_u + aliases_i + aliases_v for c in head) or not head[0].isdigit()

    def find(aliases, fallback):
        for a in aliases:
            if is_header and a in head:
                return head.index(a)
        return fallback

    cu, ci, cv = find(aliases_u, 0), find(aliases_i, 1), find(aliases_v, len(head) - 1)
    kind = spec.get("kind", "auto")
    if kind == "auto":
        kind = "rank" if head[cv] == "rank" else ("rating" if head[cv] == "rating" else "pointwise")
    if is_header:
        rows = rows[1:]
    list_len = np.zeros(data.n_users, np.int64)
    max_rank = np.zeros(data.n_users, np.int64)
    seen = set()
    su, si, sv = [], [], []
    for r in rows:
        if not r[cv].strip():
            continue  # missing value: skipped
        v = float(r[cv])
        try:
            u = user_pos.get(int(r[cu]))
            i = item_pos.get(int(r[ci]))
        except ValueError:
            u = i = None
        if u is not None:
            list_len[u] += 1
            if kind == "rank":
                max_rank[u] = max(max_rank[u], int(v))
        if u is None or i is None:
            continue
        if (u, i) in seen:
            continue
        seen.add((u, i))
        su.append(u)
        si.append(i)
        sv.append(v)
    su, si, sv = np.array(su, np.int64), np.array(si, np.int64), np.array(sv, np.float64)
    if kind == "rank":
        if spec.get("rank_mapping", "linear") == "linear":
            n = np.maximum(list_len[su], max_rank[su]).astype(np.float64)
            sv = np.where(n > 0, 1.0 - (sv - 1.0) / np.maximum(n, 1), 1.0)
        else:
            sv = np.exp(-spec.get("decay", 0.1) * (sv - 1.0))
    elif kind == "rating":
        lo, hi = spec.get("rating_min", 1.0), spec.get("rating_max", 5.0)
        sv = (np.clip(sv, lo, hi) - lo) / (hi - lo)
    else:
        sv = np.clip(sv, 0.0, 1.0)
    o = np.argsort(su, kind="stable")
    offsets = np.zeros(data.n_users + 1, np.int64)
    np.cumsum(np.bincount(su, minlength=data.n_users), out=offsets[1:])
    return offsets, si[o], sv[o].astype(np.float32)


def resolve_threshold(spec, counts):
    """The segments' threshold (core/data/segments.cpp resolveThreshold)."""
    if spec.get("mode", "quantile") == "absolute" or len(counts) == 0:
        return float(spec["value"])
    if spec["value"] <= 0:
        return 0.0
    srt = np.sort(counts)
    k = int(math.ceil(spec["value"] * len(srt) - 1e-9))
    k = min(max(k, 1), len(srt))
    return float(srt[k - 1]) + 1.0


def bucket_edges(counts, buckets):
    srt = np.sort(counts)
    edges = set()
    for b in range(1, buckets):
        pos = int(len(srt) * b / buckets)
        if pos < len(srt):
            edges.add(float(srt[pos]))
    edges.discard(float(srt[0]) if len(srt) else 0.0)
    return sorted(edges)


def segment_matrix(counts, tau, positive, buckets):
    """Membership rows [segments, entities]: below tau, at/above tau, then the buckets."""
    rows = [counts < tau, counts >= tau]
    lo = 0.0
    edges = bucket_edges(positive, buckets)
    for hi in edges + [math.inf]:
        rows.append((counts >= lo) & (counts < hi))
        lo = hi
    return torch.from_numpy(np.stack(rows).astype(np.float32))


# ------------------------------------------------------------------------------------------------
# Backbones (core/model/*), same layers, sizes and initialisation.


def embedding(rows, dim, sparse, std):
    e = nn.Embedding(rows, dim, sparse=sparse)
    with torch.no_grad():
        if std > 0:
            e.weight.normal_(0.0, std)
        else:
            e.weight.zero_()
    return e


def linear(inp, out, bias=True):
    lin = nn.Linear(inp, out, bias=bias)
    nn.init.xavier_uniform_(lin.weight)
    if bias:
        nn.init.zeros_(lin.bias)
    return lin


class FeatureField(nn.Module):
    """Mean of an item's feature embeddings (zero without features); optional 1-wide bias bag."""

    def __init__(self, features, dim, sparse, with_bias):
        super().__init__()
        pad, vocab = features
        self.register_buffer("pad", torch.from_numpy(pad))
        self.embedding = nn.EmbeddingBag(vocab + 1, dim, mode="mean", sparse=sparse,
                                         padding_idx=vocab)
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, 0.01)
            self.embedding.weight[vocab].zero_()
        self.bias = None
        if with_bias:
            self.bias = nn.EmbeddingBag(vocab + 1, 1, mode="mean", sparse=sparse, padding_idx=vocab)
            with torch.no_grad():
                self.bias.weight.zero_()

    def ids(self, items):
        return self.pad[items]

    def embed(self, ids):
        return self.embedding(ids)

    def first_order(self, ids):
        return self.bias(ids).squeeze(1)


class Mlp(nn.Module):
    def __init__(self, inp, hidden, dropout):
        super().__init__()
        layers, width = [], inp
        for h in hidden:
            layers.append(linear(width, h))
            width = h
        self.hidden = nn.ModuleList(layers)
        self.output = linear(width, 1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 and hidden else None

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
            if self.dropout is not None:
                x = self.dropout(x)
        return self.output(x).squeeze(-1)


class Fields(nn.Module):
    """[user id, item id, item features] field vectors (model_detail::FieldEmbeddings)."""

    def __init__(self, m, data, first_order):
        super().__init__()
        sp, dim = m["sparse_embeddings"], m["dim"]
        self.dim = dim
        self.user = embedding(data.n_users, dim, sp, 0.01)
        self.item = embedding(data.n_items, dim, sp, 0.01)
        self.user_weight = embedding(data.n_users, 1, sp, 0.0) if first_order else None
        self.item_weight = embedding(data.n_items, 1, sp, 0.0) if first_order else None
        self.features = (FeatureField(data.features, dim, sp, first_order)
                         if data.features is not None else None)
        self.num_fields = 3 if self.features is not None else 2
        self.item_width = (self.num_fields - 1) * dim

    def users(self, u):
        return self.user(u)

    def items(self, i):
        if self.features is None:
            return self.item(i)
        return torch.cat([self.item(i), self.features.embed(self.features.ids(i))], 1)

    def stacked(self, u, i):
        return torch.cat([self.user(u), self.items(i)], 1).view(u.shape[0], self.num_fields,
                                                                   self.dim)

    def user_first(self, u):
        return self.user_weight(u).squeeze(1)

    def item_first(self, i):
        w = self.item_weight(i).squeeze(1)
        if self.features is not None:
            w = w + self.features.first_order(self.features.ids(i))
        return w


class MF(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        sp, dim = m["sparse_embeddings"], m["dim"]
        self.user = embedding(data.n_users, dim, sp, 0.01)
        self.item = embedding(data.n_items, dim, sp, 0.01)
        self.user_bias = embedding(data.n_users, 1, sp, 0.0)
        self.item_bias = embedding(data.n_items, 1, sp, 0.0)
        self.global_bias = nn.Parameter(torch.zeros(1))
        self.dropout = nn.Dropout(m["dropout"]) if m["dropout"] > 0 else nn.Identity()

    def forward(self, u, i):
        p = self.dropout(self.user(u))
        q = self.dropout(self.item(i))
        return ((p * q).sum(1) + self.user_bias(u).squeeze(1) + self.item_bias(i).squeeze(1)
                + self.global_bias)


class DeepFM(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        self.fields = Fields(m, data, first_order=True)
        self.dnn = Mlp(self.fields.num_fields * m["dim"], m["hidden"], m["dropout"])

    def forward(self, u, i):
        f = self.fields
        fields = [f.user(u), f.item(i)]
        first = f.user_weight(u).squeeze(1) + f.item_weight(i).squeeze(1)
        if f.features is not None:
            ids = f.features.ids(i)
            fields.append(f.features.embed(ids))
            first = first + f.features.first_order(ids)
        x = torch.stack(fields, 1)  # [B, m, d]
        s = x.sum(1)
        fm = 0.5 * (s * s - (x * x).sum(1)).sum(1)
        return first + fm + self.dnn(x.flatten(1))


class DCNv2(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        self.fields = Fields(m, data, first_order=False)
        width = self.fields.num_fields * m["dim"]
        self.cross = nn.ModuleList([linear(width, width) for _ in range(m["cross_layers"])])
        self.dnn = Mlp(width, m["hidden"], m["dropout"])

    def forward(self, u, i):
        x0 = torch.cat([self.fields.users(u), self.fields.items(i)], 1)
        x = x0
        for layer in self.cross:
            x = torch.addcmul(x, x0, layer(x))
        return self.dnn(x)


class DCNv1(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        self.fields = Fields(m, data, first_order=False)
        width = self.fields.num_fields * m["dim"]
        bound = math.sqrt(6.0 / (width + 1))
        layers = m["cross_layers"]
        self.cross_weight = nn.Parameter(torch.empty(layers, width).uniform_(-bound, bound))
        self.cross_bias = nn.Parameter(torch.zeros(layers, width))
        self.combine = linear(width, 1, bias=False)
        self.dnn = Mlp(width, m["hidden"], m["dropout"])

    def forward(self, u, i):
        x0 = torch.cat([self.fields.users(u), self.fields.items(i)], 1)
        x = x0
        for l in range(self.cross_weight.shape[0]):
            x = x0 * (x @ self.cross_weight[l]).unsqueeze(1) + self.cross_bias[l] + x
        return x @ self.combine.weight.squeeze(0) + self.dnn(x0)


class XDeepFM(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        self.fields = Fields(m, data, first_order=True)
        nf = self.fields.num_fields
        layers, previous, pooled = [], nf, 0
        for h in m["cin_layers"]:
            layers.append(linear(previous * nf, h))
            previous = h
            pooled += h
        self.cin_layers = nn.ModuleList(layers)
        self.cin_out = linear(pooled, 1, bias=False) if layers else None
        self.dnn = Mlp(nf * m["dim"], m["hidden"], m["dropout"])

    def cin(self, x0):
        b, m, d = x0.shape
        base = x0.transpose(1, 2).unsqueeze(2)  # [B, d, 1, m]
        x = x0.transpose(1, 2)  # [B, d, m]
        pooled = []
        for layer in self.cin_layers:
            z = (x.unsqueeze(3) * base).reshape(b * d, x.shape[2] * m)
            x = layer(z).view(b, d, -1)
            pooled.append(x.sum(1))
        return self.cin_out(torch.cat(pooled, 1)).squeeze(1)

    def forward(self, u, i):
        x0 = self.fields.stacked(u, i)
        logit = (self.fields.user_first(u) + self.fields.item_first(i)
                 + self.dnn(x0.view(x0.shape[0], -1)))
        if self.cin_out is not None:
            logit = logit + self.cin(x0)
        return logit


class AutoInt(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        self.fields = Fields(m, data, first_order=False)
        self.heads, self.head_dim = m["attention_heads"], m["attention_dim"]
        width = self.heads * self.head_dim
        inp, proj = m["dim"], []
        for _ in range(m["attention_layers"]):
            proj.append(linear(inp, 4 * width, bias=False))
            inp = width
        self.projections = nn.ModuleList(proj)
        self.out = linear(self.fields.num_fields * width, 1)
        self.dnn = (Mlp(self.fields.num_fields * m["dim"], m["hidden"], m["dropout"])
                    if m["hidden"] else None)

    def interact(self, projected):
        b, m, _ = projected.shape
        width = self.heads * self.head_dim

        def part(k):
            return projected.narrow(2, k * width, width).reshape(b, m, self.heads, self.head_dim)

        scores = (part(0).unsqueeze(2) * part(1).unsqueeze(1)).sum(-1)  # [B, a, b, H]
        weights = torch.softmax(scores, 2)
        heads = (weights.unsqueeze(-1) * part(2).unsqueeze(1)).sum(2)  # [B, m, H, d']
        return F.relu(heads.reshape(b, m, width) + projected.narrow(2, 3 * width, width))

    def forward(self, u, i):
        x0 = self.fields.stacked(u, i)
        x = x0
        for layer in self.projections:
            x = self.interact(layer(x))
        logit = self.out(x.reshape(x.shape[0], -1)).squeeze(1)
        if self.dnn is not None:
            logit = logit + self.dnn(x0.view(x0.shape[0], -1))
        return logit


class DIN(nn.Module):
    def __init__(self, m, data):
        super().__init__()
        length = m["history_length"]
        # The last `length` training items of each user (train is sorted by user, time, order).
        tu, ti = data.train_u, data.train_i
        counts = np.bincount(tu, minlength=data.n_users)
        ends = np.cumsum(counts)
        from_end = ends[tu] - np.arange(len(tu)) - 1
        take = np.minimum(counts[tu], length)
        keep = from_end < length
        col = (take - 1 - from_end)[keep]
        history = np.zeros((data.n_users, length), np.int64)
        valid = np.zeros((data.n_users, length), bool)
        history[tu[keep], col] = ti[keep]
        valid[tu[keep], col] = True
        self.register_buffer("history", torch.from_numpy(history))
        self.register_buffer("valid", torch.from_numpy(valid))
        self.fields = Fields(m, data, first_order=False)
        iw = self.fields.item_width
        lau, prelu, inp = [], [], 4 * iw
        for w in m["din_attention"]:
            lau.append(linear(inp, w))
            prelu.append(nn.PReLU(w, init=0.25))
            inp = w
        self.attention = nn.ModuleList(lau)
        self.activations = nn.ModuleList(prelu)
        self.attention_out = linear(inp, 1)
        self.dnn = Mlp(m["dim"] + 2 * iw, m["hidden"], m["dropout"])

    def forward(self, u, i):
        b, length = u.shape[0], self.history.shape[1]
        hist = self.history[u]  # [B, L]
        mask = self.valid[u] & (hist != i.unsqueeze(1))
        target = self.fields.items(i)  # [B, I]
        width = target.shape[1]
        h = self.fields.items(hist.reshape(-1)).view(b, length, width)
        t = target.unsqueeze(1).expand(b, length, width)
        x = torch.cat([h, t, h - t, h * t], 2).view(b * length, 4 * width)
        for layer, act in zip(self.attention, self.activations):
            x = act(layer(x))
        weights = self.attention_out(x).view(b, length) * mask.to(h.dtype)
        interest = torch.bmm(weights.unsqueeze(1), h).squeeze(1)  # [B, I]
        return self.dnn(torch.cat([self.fields.users(u), interest, target], 1))


BACKBONES = {"mf": MF, "deepfm": DeepFM, "dcnv2": DCNv2, "xdeepfm": XDeepFM, "autoint": AutoInt,
             "dcnv1": DCNv1, "din": DIN}


class Gate(nn.Module):
    """a(u,i) = sigmoid(w . (z * mask) + b), zero init (train/gate.cpp GateImpl)."""

    def __init__(self, g):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(3))
        self.bias = nn.Parameter(torch.zeros(1))
        inputs = g.get("inputs", {})
        self.register_buffer("mask", torch.tensor(
            [float(inputs.get(k, True)) for k in ("cold", "tail", "uncertainty")]))

    def forward(self, z):
        return torch.sigmoid((z * self.mask) @ self.weight + self.bias)


class LazyAdam:
    """Vectorised port of the engine's LazyAdam (train/lazy_adam.cpp): per-row step counts."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = [torch.zeros(p.shape[0]) for p in self.params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p, m, v, t in zip(self.params, self.m, self.v, self.t):
            if p.grad is None:
                continue
            g = p.grad.coalesce()
            rows, vals = g.indices()[0], g.values()
            if rows.numel() == 0:
                continue
            mm = m.index_select(0, rows).mul_(self.b1).add_(vals, alpha=1 - self.b1)
            vv = v.index_select(0, rows).mul_(self.b2).addcmul_(vals, vals, value=1 - self.b2)
            tt = t.index_select(0, rows).add_(1.0)
            m.index_copy_(0, rows, mm)
            v.index_copy_(0, rows, vv)
            t.index_copy_(0, rows, tt)
            c1 = (1.0 - torch.pow(self.b1, tt)).unsqueeze(1)
            c2 = (1.0 - torch.pow(self.b2, tt)).unsqueeze(1)
            p.index_add_(0, rows, (mm / c1) / ((vv / c2).sqrt() + self.eps), alpha=-self.lr)


def split_parameters(model):
    sparse = []
    for mod in model.modules():
        if isinstance(mod, (nn.Embedding, nn.EmbeddingBag)) and mod.sparse:
            sparse.append(mod.weight)
    ids = {id(p) for p in sparse}
    return sparse, [p for p in model.parameters() if id(p) not in ids]


# ------------------------------------------------------------------------------------------------
# The training loop (train/trainer.cpp), vectorised.


class Trainer:
    def __init__(self, s, data, scores, sparse_optimizer):
        self.s = s
        self.data = data
        t, meth = s["train"], s["method"]
        self.method = meth["name"]
        self.pairs = self.method in ("global", "selective")
        self.gate_learns = self.method == "selective"
        self.batch = t["batch_size"]
        self.negatives = t["negatives"]
        self.lam, self.margin = meth["lambda"], meth["margin"]
        self.K, self.factor = meth["pairs_per_user"], meth["candidate_factor"]
        self.n_items = data.n_items

        self.train_u = torch.from_numpy(data.train_u)
        self.train_i = torch.from_numpy(data.train_i)
        self.train_keys = torch.sort(self.train_u * self.n_items + self.train_i).values
        self.checkable = torch.from_numpy(data.history < data.n_items)  # not every item positive

        self.model = BACKBONES[s["model"]["type"]](s["model"], data)
        sparse, dense = split_parameters(self.model)
        lr = t["learning_rate"]
        if sparse_optimizer == "lazy":
            self.sparse_opt = LazyAdam(sparse, lr) if sparse else None
        else:
            self.sparse_opt = torch.optim.SparseAdam(sparse, lr=lr) if sparse else None
        self.dense_opt = torch.optim.Adam(dense, lr=lr) if dense else None
        g = s["gate"]
        self.gate = Gate(g)
        self.gate_opt = torch.optim.Adam(self.gate.parameters(), lr=g["learning_rate"])
        self.gate_weight = g["loss_weight"]
        self.tau_a = g["tau_a"]

        if self.pairs:
            offsets, items, values = scores
            self.s_offsets = torch.from_numpy(offsets)
            self.s_items = torch.from_numpy(items)
            self.s_values = torch.from_numpy(values)
        seg = s["dataset"]["segments"]
        hist, pop = data.history, data.popularity
        tau_u = g["tau_u"] if g.get("tau_u") is not None else resolve_threshold(seg["cold"],
                                                                                hist[hist > 0])
        tau_i = g["tau_i"] if g.get("tau_i") is not None else resolve_threshold(seg["tail"],
                                                                                pop[pop > 0])
        self.cold = torch.from_numpy((hist < tau_u).astype(np.float32))
        self.tail = torch.from_numpy((pop < tau_i).astype(np.float32))
        # Gate activity per segment: user segments (cold, warm, hist_k), item segments (tail,
        # head, pop_k), overall.
        self.user_segments = segment_matrix(hist, resolve_threshold(seg["cold"], hist[hist > 0]),
                                            hist[hist > 0], seg.get("buckets", 5))
        self.item_segments = segment_matrix(pop, resolve_threshold(seg["tail"], pop[pop > 0]),
                                            pop[pop > 0], seg.get("buckets", 5))

    def is_positive(self, users, items):
        keys = users * self.n_items + items
        pos = torch.searchsorted(self.train_keys, keys).clamp_(max=self.train_keys.numel() - 1)
        return self.train_keys[pos] == keys

    def sample_negatives(self, users):
        items = torch.randint(self.n_items, users.shape)
        check = self.checkable[users]
        bad = (check & self.is_positive(users, items)).nonzero().squeeze(1)
        for _ in range(999):  # at most 1000 draws per negative, as the engine
            if bad.numel() == 0:
                break
            items[bad] = torch.randint(self.n_items, bad.shape)
            bad = bad[self.is_positive(users[bad], items[bad])]
        return items

    def sample_pairs(self, pos_users):
        users = torch.unique(pos_users)
        s0 = self.s_offsets[users]
        n = self.s_offsets[users + 1] - s0
        ok = n >= 2
        users, s0, n = users[ok], s0[ok], n[ok]
        draws = self.factor * self.K
        nf = n.unsqueeze(1).to(torch.float64)
        a = (torch.rand(users.numel(), draws, dtype=torch.float64) * nf).long()
        a = torch.minimum(a, n.unsqueeze(1) - 1)
        c = (torch.rand(users.numel(), draws, dtype=torch.float64) * (nf - 1)).long()
        c = torch.minimum(c, n.unsqueeze(1) - 2)
        c = c + (c >= a).long()
        a, c = a + s0.unsqueeze(1), c + s0.unsqueeze(1)  # score-entry indices
        ra, rc = self.s_values[a], self.s_values[c]
        higher = torch.where(ra > rc, a, c)
        lower = torch.where(ra > rc, c, a)
        diff = torch.where(ra != rc, (ra - rc).abs(), torch.full_like(ra, -1.0))
        # The K largest differences, ties broken by the smaller higher-entry index (the engine's
        # partial_sort comparator): stable sorts by index, then by difference.
        by_index = torch.sort(higher, dim=1, stable=True).indices
        diff, higher, lower = diff.gather(1, by_index), higher.gather(1, by_index), \
            lower.gather(1, by_index)
        order = torch.sort(diff, dim=1, descending=True, stable=True).indices[:, :self.K]
        keep = diff.gather(1, order) > 0  # ties in r are not pairs
        pu = users.unsqueeze(1).expand(-1, order.shape[1])[keep]
        pi = self.s_items[higher.gather(1, order)[keep]]
        pj = self.s_items[lower.gather(1, order)[keep]]
        return pu, pi, pj

    def train_epoch(self, max_batches=0):
        model = self.model
        model.train()
        totals = {"base": 0.0, "llm": 0.0, "gate": 0.0, "pairs": 0, "labeled_pairs": 0}
        n_user_seg, n_item_seg = self.user_segments.shape[0], self.item_segments.shape[0]
        act = torch.zeros(3, 1 + n_user_seg + n_item_seg)  # sum, active, count per segment
        start = time.perf_counter()
        order = torch.randperm(self.train_u.numel())
        batches = 0
        for lo in range(0, order.numel(), self.batch):
            if max_batches and batches >= max_batches:
                break  # smoke tests only (--max-batches)
            idx = order[lo:lo + self.batch]
            pu, pi = self.train_u[idx], self.train_i[idx]
            nu = pu.repeat_interleave(self.negatives)
            ni = self.sample_negatives(nu)
            n_base = pu.numel() + nu.numel()
            if self.pairs:
                qu, qi, qj = self.sample_pairs(pu)
                users = torch.cat([pu, nu, qu, qu])
                items = torch.cat([pi, ni, qi, qj])
            else:
                users, items = torch.cat([pu, nu]), torch.cat([pi, ni])
            logits = model(users, items)
            targets = torch.cat([torch.ones(pu.numel()), torch.zeros(nu.numel())])
            base = F.binary_cross_entropy_with_logits(logits[:n_base], targets)
            total = base
            llm_v = gate_v = 0.0
            if self.pairs and qu.numel() > 0:
                np_ = qu.numel()
                si, sj = logits[n_base:n_base + np_], logits[n_base + np_:]
                hinge = F.relu(self.margin - (si - sj))
                with torch.no_grad():  # q: binary entropy (bits) of the predicted probability
                    p = torch.sigmoid(logits[n_base:].detach()).clamp(1e-7, 1 - 1e-7)
                    q = -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p))
                side_u, side_i = users[n_base:], items[n_base:]
                z = torch.stack([self.cold[side_u], self.tail[side_i], q], 1)
                if self.gate_learns:
                    a = self.gate(z)
                    a_pair = (a[:np_] + a[np_:]) * 0.5
                    llm = (a_pair.detach() * hinge).mean()
                else:  # gate off (global): a = 1
                    a = torch.ones(2 * np_)
                    llm = hinge.mean()
                total = total + self.lam * llm
                llm_v = llm.item()
                if self.gate_learns:
                    hp, lp = self.is_positive(qu, qi), self.is_positive(qu, qj)
                    labelled = hp != lp
                    n_lab = int(labelled.sum())
                    totals["labeled_pairs"] += n_lab
                    if n_lab:
                        gate_loss = F.binary_cross_entropy(
                            a_pair[labelled].clamp(1e-6, 1 - 1e-6), hp[labelled].float())
                        total = total + self.gate_weight * gate_loss
                        gate_v = gate_loss.item()
                # Gate activity by segment (engine: recordGateActivity), as used: a detached.
                with torch.no_grad():
                    a_used = a.detach()
                    stats = torch.stack([a_used, (a_used > self.tau_a).float(),
                                         torch.ones_like(a_used)], 1)  # [2P, 3]
                    act[:, 0] += stats.sum(0)
                    act[:, 1:1 + n_user_seg] += (self.user_segments[:, side_u] @ stats).t()
                    act[:, 1 + n_user_seg:] += (self.item_segments[:, side_i] @ stats).t()
                totals["pairs"] += np_
            for opt in (self.sparse_opt, self.dense_opt, self.gate_opt):
                if opt is not None:
                    opt.zero_grad(set_to_none=True)
            total.backward()
            if self.sparse_opt is not None:
                self.sparse_opt.step()
            if self.dense_opt is not None:
                self.dense_opt.step()
            if self.gate_learns:
                self.gate_opt.step()
            totals["base"] += base.item()
            totals["llm"] += llm_v
            totals["gate"] += gate_v
            batches += 1
        seconds = time.perf_counter() - start
        nb = max(batches, 1)
        return {"seconds": seconds, "base_loss": totals["base"] / nb,
                "llm_loss": totals["llm"] / nb, "gate_loss": totals["gate"] / nb,
                "pairs": totals["pairs"], "labeled_pairs": totals["labeled_pairs"],
                "batches": batches,
                "gate_mean_overall": float(act[0, 0] / act[2, 0]) if act[2, 0] > 0 else None,
                "gate_w": [float(x) for x in self.gate.weight.detach()] +
                          [float(self.gate.bias.detach())]}


def mix_seed(seed, stream, epoch=0):
    """splitmix64 of (seed, stream, epoch), as common/seed.cpp mixes its streams (the values
    differ from the engine's: only independence matters here)."""
    x = (seed * 0x9E3779B97F4A7C15 + stream * 0xBF58476D1CE4E5B9 + epoch) & (2**64 - 1)
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & (2**64 - 1)
    x ^= x >> 31
    return x & (2**63 - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="engine run config (JSON) for files and settings")
    ap.add_argument("--train", help="train file of a given split (default: the demo's)")
    ap.add_argument("--test", help="test file (default: test.tsv next to --train)")
    ap.add_argument("--items-file", help="item features, e.g. genre_map.tsv (default: next to "
                    "--train); '' for none")
    ap.add_argument("--scores", help="LLM score file (default: the demo's ChatGPT EXP_3)")
    ap.add_argument("--model", choices=MODELS)
    ap.add_argument("--method", choices=["none", "global", "selective"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--sparse-optimizer", choices=["sparseadam", "lazy"], default="sparseadam",
                    help="torch.optim.SparseAdam (default) or a port of the engine's LazyAdam")
    ap.add_argument("--no-deterministic", action="store_true",
                    help="leave torch's deterministic algorithms off (the engine turns them on)")
    ap.add_argument("--max-batches", type=int, default=0,
                    help="stop each epoch after this many batches (smoke tests; 0: all)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()

    s = settings_from_args(args)
    torch.set_num_threads(max(1, args.threads))
    if not args.no_deterministic:
        torch.use_deterministic_algorithms(True)
    t0 = time.perf_counter()
    data = load_data(s)
    scores = load_scores(s, data) if s["method"]["name"] != "none" else None
    torch.manual_seed(mix_seed(s["seed"], 0x11))
    trainer = Trainer(s, data, scores, args.sparse_optimizer)
    setup = time.perf_counter() - t0

    epochs = []
    for e in range(1, args.epochs + 1):
        torch.manual_seed(mix_seed(s["seed"], 0x33, e))
        r = trainer.train_epoch(args.max_batches)
        epochs.append(r)
        print(f"peer {s['model']['type']} {s['method']['name']} threads {args.threads} epoch {e}: "
              f"{r['seconds']:.3f} s  base {r['base_loss']:.4f}  llm {r['llm_loss']:.4f}  "
              f"gate {r['gate_loss']:.4f}  pairs {r['pairs']}", file=sys.stderr, flush=True)

    out = {"model": s["model"]["type"], "method": s["method"]["name"], "threads": args.threads,
           "epoch_seconds": [r["seconds"] for r in epochs],
           "loss": [r["base_loss"] for r in epochs],
           "llm_loss": [r["llm_loss"] for r in epochs],
           "gate_loss": [r["gate_loss"] for r in epochs],
           "pairs": [r["pairs"] for r in epochs],
           "labeled_pairs": [r["labeled_pairs"] for r in epochs],
           "gate_mean_overall": [r["gate_mean_overall"] for r in epochs],
           "batches": epochs[0]["batches"] if epochs else 0,
           "train_rows": int(len(data.train_u)), "users": data.n_users, "items": data.n_items,
           "scored_entries": int(len(scores[1])) if scores is not None else 0,
           "setup_seconds": setup, "sparse_optimizer": args.sparse_optimizer,
           "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
