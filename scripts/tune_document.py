"""Grid search of the document aligner's main parameters on the dev sets:
strict F1 on ntrex128_jaen_resplit (clean and with 10 % omissions) and
textberg_defr_dev, for each combination. The defaults in DocumentParams are
the choice made from this table (the best mean of the three, preferring the
clean Japanese–English score on ties).

    python scripts/tune_document.py [--shared ../shared]
    python scripts/tune_document.py --exact   # the error breakdown by bead kind, then the second pass's grid
    python scripts/tune_document.py --omissions   # the omission prior, on five deletion seeds
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from dataclasses import replace
from pathlib import Path


from align.document import DocumentParams  # noqa: E402
from align.encoders import load_encoder  # noqa: E402
from align.evaluate import load_bench, score  # noqa: E402
from align.pipeline import align_embeddings, embed_document  # noqa: E402

SETS = {"ntrex": ("ntrex128_jaen_resplit", 0.0, 0), "ntrex_noise": ("ntrex128_jaen_resplit", 0.1, 0),
        "textberg": ("textberg_defr_dev", 0.0, 0)}
# the omission prior moves the score with omissions by a bead here and there: it is
# judged on five deletion seeds (their mean), not on seed 0 alone
OMISSION_SETS = {**SETS, **{f"noise_seed{k}": ("ntrex128_jaen_resplit", 0.1, k) for k in range(1, 5)}}
GRID = {"skip": [0.08, 0.10, 0.12], "merge_penalty": [0.03, 0.05, 0.07], "length_weight": [0.15, 0.25]}
# the second pass, searched with the others at their defaults (python scripts/tune_document.py --exact):
# exact_within 0.01 scores as every group embedded exactly on the three sets, for ~13 % of the
# sentences' groups embedded (0.00: -0.003 on Text+Berg, 0.02-0.10: the same F1 for 1.5-3x the groups)
EXACT_GRID = {"exact_reach": [0, 1], "exact_within": [-1.0, 0.0, 0.01, 0.02, 0.05, 0.10]}
# the omission prior (-1: off): 0.08 from 0.01 of the sentences left unaligned by the first path
OMISSION_GRID = {"omission_skip": [-1.0, 0.08, 0.07, 0.06], "omission_share": [0.01, 0.03]}


def load(shared: Path, encoder, params: DocumentParams, sets: dict = SETS) -> dict:
    """Embed every document once; the grid only re-runs the aligner."""
    return {key: [(embed_document(d.src, d.tgt, encoder, params, d.joiner), d.gold)
                  for d in load_bench(shared / "data/bench" / folder, noise, seed)]
            for key, (folder, noise, seed) in sets.items()}


def run(data: dict, params: DocumentParams) -> dict:
    return {key: score([gold for _, gold in docs],
                       [align_embeddings(emb, params).beads for emb, _ in docs])["strict_f1"]
            for key, docs in data.items()}


def breakdown(data: dict, params: DocumentParams) -> None:
    """Per set and bead kind (a-b): gold beads missed, predicted beads wrong."""
    for key, docs in data.items():
        gold, wrong, missed, made = Counter(), Counter(), Counter(), Counter()
        for emb, beads in docs:
            truth = {(tuple(s), tuple(t)) for s, t in beads}
            found = set(align_embeddings(emb, params).beads)
            for bead_set, total, errors, other in ((truth, gold, missed, found), (found, made, wrong, truth)):
                for s, t in bead_set:
                    total[f"{len(s)}-{len(t)}"] += 1
                    errors[f"{len(s)}-{len(t)}"] += (s, t) not in other
        print(key, "  ".join(f"{k}: {missed[k]}/{gold[k]} missed, {wrong[k]}/{made[k]} wrong"
                             for k in sorted(gold | made, key=lambda k: (sum(map(int, k.split("-"))), k))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--exact", action="store_true", help="search the second pass's parameters instead")
    which.add_argument("--omissions", action="store_true", help="search the omission prior, on five deletion seeds")
    args = ap.parse_args()
    grid = EXACT_GRID if args.exact else OMISSION_GRID if args.omissions else GRID
    sets = OMISSION_SETS if args.omissions else SETS
    base = DocumentParams()
    data = load(Path(args.shared), load_encoder(), base, sets)
    if args.exact:
        breakdown(data, base)
    print("  ".join(grid) + "  " + "  ".join(sets) + "  mean" + "  omissions mean" * args.omissions)
    for values in itertools.product(*grid.values()):
        chosen = {k: None if k == "omission_skip" and v < 0 else v for k, v in zip(grid, values)}
        res = run(data, replace(base, **chosen))
        mean = sum(res.values()) / len(res)
        noisy = [v for k, v in res.items() if sets[k][1]]
        print("  ".join(f"{v:.2f}" for v in values) + "  " + "  ".join(f"{v:.4f}" for v in res.values())
              + f"  {mean:.4f}" + f"  {sum(noisy) / len(noisy):.4f}" * args.omissions, flush=True)


if __name__ == "__main__":
    main()
