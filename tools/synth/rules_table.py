#!/usr/bin/env python3
"""Print the rules of Sources/LeaderCore/Synthetic/ClinicalRules.swift as Markdown tables, with code titles,
for docs/synthetic-cohort.md (section "Rule tables"). Run from the repository root."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SYN = os.path.join(ROOT, "Sources", "LeaderCore", "Synthetic")
src = open(os.path.join(SYN, "ClinicalRules.swift")).read()


def table(name):
    text = open(os.path.join(SYN, name)).read()
    out = {}
    for body in re.findall(r'#"""\n(.*?)\n"""#', text, re.S):
        for line in body.split("\n"):
            f = line.split("\t")
            out.setdefault(f[0], f[1])
    return out


icd = table("ICD9Catalog.swift")
atc = table("DrugCatalog.swift")


def fmt(spec, names):
    items = []
    for item in spec.split():
        alts, _, p = item.partition("@")
        parts = []
        for alt in alts.split("|"):
            code, _, w = alt.partition("*")
            parts.append(code + ("×" + w if w else ""))
        s = " \\| ".join(parts)
        items.append(s + (" @" + p if p else ""))
    return "; ".join(items)


def field(block, key):
    m = re.search(r'\b%s:\s*"((?:[^"\\]|\\.)*)"' % key, block)
    return m.group(1) if m else ""


blocks = []
for chunk in src.split("ClinicalRule(.")[1:]:
    m = re.match(r'(\w+), "(\w+)", base: ([0-9.]+)(.*)', chunk, re.S)
    if m:
        blocks.append(m.groups())
for kind, title in (("chronic", "Chronic conditions (prevalence at first visit)"),
                    ("episode", "Episodes (relative weight of being the reason for an admission)"),
                    ("complication", "Complications and findings (probability per admission)")):
    print("### " + title + "\n")
    print("| rule | base | profile multipliers | boosted by | diagnoses | procedures | drug classes (ATC3) |")
    print("|---|---|---|---|---|---|---|")
    for k, rid, base, rest in blocks:
        if k != kind:
            continue
        nested = r"(?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*"
        risks = ", ".join("%s ×%s" % (re.sub(r"\s+", " ", t).replace(".", ""), f)
                          for t, f in re.findall(r"Risk\((%s), ([0-9.]+)\)" % nested, rest))
        variants = re.findall(r'RxVariant\((.*?), "([^"]*)"\)', rest)
        rx = fmt(field(rest, "rx"), atc)
        for test, spec in variants:
            rx += "<br>if %s: %s" % (test.replace(".", ""), fmt(spec, atc))
        print("| %s | %s | %s | %s | %s | %s | %s |" % (rid, base, risks, field(rest, "boost"),
              fmt(field(rest, "dx"), icd), fmt(field(rest, "px"), icd), rx))
    print()
