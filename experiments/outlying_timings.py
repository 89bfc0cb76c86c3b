"""Which bundled devices' reference timings hold one that alone widens every latency bound.

For each of the 19 devices of the nb201 latency table, adapt the shipped estimator to a new device
from that device's 10 reference timings (as a user registers a device) and print its spread (the
leave-one-out log-error that scales every bound) and the timings `adapt` flags as outlying
(:class:`gennas.surrogates.latency_bound.OutlyingTiming`), with what the other nine predict.

    python experiments/outlying_timings.py     # about 4 s
"""

from __future__ import annotations

import argparse
import warnings

import gennas
from gennas.surrogates.latency_bound import OutlyingTiming


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    bench = gennas.load_benchmark("nb201")
    estimator = gennas.load_latency_estimator("nb201")
    refs = estimator.reference_archs()
    print("| device | spread (log) | flagged timings |\n|---|---|---|")
    for device in list(estimator.devices):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OutlyingTiming)
            estimator.adapt("new", [(a, bench.latency(a, device)) for a in refs])
        flagged = [str(w.message).split(" timed at ", 1)[1].split(";", 1)[0] for w in caught
                   if issubclass(w.category, OutlyingTiming)]
        print(f"| {device} | {estimator.device_spread['new']:.2f} | {'; '.join(flagged) or '-'} |")


if __name__ == "__main__":
    main()
