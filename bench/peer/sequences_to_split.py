#!/usr/bin/env python3
"""Writes a sequence-per-line dataset (`user item item ...` in time order: the Amazon 5-core files
of SASRec, S3-Rec and ICLRec) as the given split that bench/compare.sh can hand to both sides:
train.tsv with every item but each user's last (user, item, rating 1, time = position) and
test.tsv with the last. With the engine's split "given" and validation "auto" (the last training
interaction of every user with two or more), this is the same split as `--format sequences
--split leave-one-out`.

    python3 bench/peer/sequences_to_split.py Sports_and_Outdoors.txt OUTDIR
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    users = interactions = 0
    with open(source, encoding="utf-8") as f, \
            open(os.path.join(out, "train.tsv"), "w", encoding="utf-8") as train, \
            open(os.path.join(out, "test.tsv"), "w", encoding="utf-8") as test:
        for line in f:
            fields = line.split()
            if len(fields) < 2:
                continue
            user, items = fields[0], fields[1:]
            users += 1
            interactions += len(items)
            for t, item in enumerate(items[:-1]):
                train.write(f"{user}\t{item}\t1\t{t}\n")
            if len(items) >= 2:
                test.write(f"{user}\t{items[-1]}\t1\t{len(items) - 1}\n")
    print(f"{users} users, {interactions} interactions -> {out}/train.tsv, {out}/test.tsv")


if __name__ == "__main__":
    main()
