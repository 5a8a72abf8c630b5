"""`tinyeit dataset import`: turn a user's recording into the study's dataset artifact."""
from __future__ import annotations

import argparse

FORMAT_CHOICES = ("chemnitz-xlsx", "npz", "csv")


def register(subparsers) -> None:
    parser = subparsers.add_parser("dataset", help="dataset tools (import a recording)")
    sub = parser.add_subparsers(dest="dataset_command", required=True)
    imp = sub.add_parser("import", help="convert chemnitz-xlsx / npz / csv to OUT.npz + OUT.json",
                         description="Read SRC, check it, write OUT.npz (X, y, subject, trial) and "
                                     "OUT.json (provenance) beside it. Values stay raw unless "
                                     "--normalize l2.")
    imp.add_argument("--format", required=True, choices=FORMAT_CHOICES)
    imp.add_argument("--label-column", default="label", help="csv: the label column (default: label)")
    imp.add_argument("--normalize", default="none", choices=("none", "l2"))
    imp.add_argument("src", help="file (npz, csv) or folder (chemnitz-xlsx)")
    imp.add_argument("out", help="output .npz; provenance goes to the same name with .json")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from tinyeit.data import import_file

    provenance = import_file(args.format, args.src, args.out, label_column=args.label_column,
                             normalize_mode=args.normalize)
    print(f"{args.out}: {provenance['n_frames']} frames x {provenance['n_features']} features, "
          f"{provenance['n_classes']} classes {provenance['class_names']}, "
          f"subjects {provenance['subjects']}")
    return 0
