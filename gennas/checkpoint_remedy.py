"""What a broken checkpoint's error says: why torch refused it (without torch's advice to load it
unsafely) and what to do (delete it; the next search or ``gennas train`` makes it again)."""

from __future__ import annotations

from pathlib import Path

from gennas.errors import first_line


def torch_refusal(exc: BaseException) -> str:
    """Why torch.load refused a file, without torch's advice to load it with weights_only=False
    (which runs any code a pickle holds: a user was told to do that with a corrupt checkpoint)."""
    text = str(exc)
    if not text.startswith("Weights only load failed"):
        return first_line(exc).split(". ")[0]
    said = [line.strip() for line in text.splitlines()[1:] if line.strip() and
            not line.strip().startswith("Check the documentation")]
    said = [line.split("your use case: ", 1)[-1] for line in said]  # torch's request to file an issue
    return " ".join(said).rstrip(".") or "not plain weights"


def remedy(path: Path) -> str:
    """What to do about the broken checkpoint (or manifest) at ``path``: delete it and what the
    next search or ``gennas train`` makes again (the user was left to guess)."""
    path = Path(path)
    pair = f"delete {path.with_suffix('.pt')} and {path.with_suffix('.json').name} beside it"
    kind = path.name.split("_", 1)[0]
    if path.stem == "predictor_start":  # a study's copy of the predictor it began from (a walk was told "afresh")
        return (f"{pair}: a resume then starts from the predictor saved in $GENNAS_HOME now, and may verify other "
                "architectures than the uninterrupted search would have")
    if kind == "train":  # a training's state or weights: nothing makes them again (a walk was told it would)
        return (f"restore it from a copy, or {pair}: its trained weights are lost (a resumed search trains that "
                "architecture from its first epoch; an export builds that design untrained)")
    if kind == "predictor":
        return f"{pair}: the next designer search (gennas search --method designer) learns a predictor afresh"
    if kind in ("diffusion", "vae"):
        return f"{pair}, then train the generator again (gennas train --space ... --kind {kind})"
    if kind not in ("latency", "supernet", "encoder"):  # a study named /etc/passwd: "delete /etc/passwd.pt" it said
        return "it is not a file gennas wrote (no gennas checkpoint's name): check what named it"
    return f"{pair}: it is made again by what wrote it"
