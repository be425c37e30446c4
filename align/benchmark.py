"""Scoring the document aligner on a benchmark folder (``evaluate``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .document import DocumentParams
from .encoders import CachedEncoder, load_encoder
from .evaluate import BenchmarkError, format_beads, load_bench, score
from .errors import InputError
from .export import write_bytes
from .model import Segment
from .pipeline import align_segments


@dataclass
class EvalResult:
    scores: dict
    signature: dict
    documents: int = 0
    beads: int = 0
    seconds: float = 0.0

    def table(self) -> str:
        s = self.scores
        lines = [f"{'':12}{'strict':>9}{'lax':>9}",
                 f"{'precision':12}{s['strict_precision']:9.4f}{s['lax_precision']:9.4f}",
                 f"{'recall':12}{s['strict_recall']:9.4f}{s['lax_recall']:9.4f}",
                 f"{'F1':12}{s['strict_f1']:9.4f}{s['lax_f1']:9.4f}",
                 f"{self.documents} documents, {self.beads} gold beads, {self.seconds:.1f} s",
                 "signature: " + "|".join(f"{k}:{v}" for k, v in self.signature.items()
                                          if k != "params")]
        return "\n".join(lines)

    def summary(self) -> dict:
        return {**{k: round(v, 4) for k, v in self.scores.items()}, "documents": self.documents,
                "beads": self.beads, "seconds": round(self.seconds, 2), "signature": self.signature}


def evaluate_folder(folder: str | Path, *, model: str | None = None, hyp_out: str | Path | None = None,
                    noise: float = 0.0, seed: int = 0,
                    params: DocumentParams = DocumentParams(),
                    encoder: CachedEncoder | None = None) -> EvalResult:
    """Align every document of the folder (presegmented, document mode) with
    one loaded model (``encoder``, else ``model`` loaded), write the
    hypotheses, score them against the gold."""
    docs = load_bench(folder, noise, seed)
    if not docs:
        raise BenchmarkError("no ID.gold files")
    out = Path(hyp_out) if hyp_out else None
    if out:  # before the model loads: a wrong folder is said at once
        if out.exists() and not out.is_dir():  # the output's fault, not the benchmark's
            raise InputError(f"--hyp-out {out}: is a file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
    encoder = encoder or load_encoder(model)
    tests = []
    started = time.perf_counter()
    for doc in docs:
        try:
            al = align_segments([Segment(t) for t in doc.src], [Segment(t) for t in doc.tgt],
                                mode="document", encoder=encoder, joiner=doc.joiner, params=params)
        except InputError as e:  # an empty side: say which document's
            raise InputError(f"{Path(folder) / doc.id}: {e}") from None
        beads = [(p.ja, p.en) for p in al.pairs]
        if out:
            write_bytes(out / f"{doc.id}.align", format_beads(beads).encode("utf-8"))
            # the alignment with its scores, to check each pair's confidence against the gold
            write_bytes(out / f"{doc.id}.json", al.dumps().encode("utf-8"))
        tests.append(beads)
    golds = [doc.gold for doc in docs]
    # every tuning constant the alignments recorded (the aligner's, the pipeline's, the encoder's)
    signature = {"model": encoder.name, "version": getattr(encoder.inner, "version", ""),
                 "aligner": "document", "noise": noise, "seed": seed, "params": al.meta["params"]}
    return EvalResult(score(golds, tests), signature, len(docs), sum(map(len, golds)),
                      time.perf_counter() - started)
