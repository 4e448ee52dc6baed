#!/usr/bin/env python3
"""Build the embedded code tables of the synthetic cohort from real reference files.

Reads every ICD-9 / ATC3 code used in Sources/LeaderCore/Synthetic/ClinicalRules.swift and writes
Sources/LeaderCore/Synthetic/ICD9Catalog.swift and DrugCatalog.swift with
  - the real D_ICD_DIAGNOSES / D_ICD_PROCEDURES short and long titles (MIMIC-III demo, ODbL),
  - the real WHO ATC names of the ATC3 classes and of the ingredients (WHO ATC-DDD 2021-12-03),
  - real drug products per class (DRUG, NDC, GSN, strength, dose, form, route) taken from MIMIC-III demo
    PRESCRIPTIONS rows whose NDC -> ATC3 (MoleRec ndc2atc3) and name -> ATC5 (ethos mimic_drug_to_atc) agree,
    plus products whose NDC is absent from ndc2atc3 but whose name maps: the "unmapped minority".

Run from the repository root with ../shared beside it:  python3 tools/synth/make_catalog.py
The generator itself never reads ../shared: the output Swift files are committed.
"""
import collections
import csv
import gzip
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data")
SYN = os.path.join(ROOT, "Sources", "LeaderCore", "Synthetic")


def codes_in_rules():
    src = open(os.path.join(SYN, "ClinicalRules.swift")).read()
    specs = collections.defaultdict(list)
    for key, body in re.findall(r'\b(dx|px|rx):\s*"((?:[^"\\]|\\.)*)"', src):
        specs[key].append(body)
    for key, body in re.findall(r'\b(Rx|Px)Variant\([^"]*"([^"]*)"', src):
        specs[key.lower()].append(body)
    # multi-line static lets: `static let fillerDx = "..." + "..."`
    for name, kind in (("fillerDx", "dx"), ("icuPx", "px"), ("backgroundRx", "rx"), ("noiseRx", "rx")):
        m = re.search(r"static let %s = ((?:\"[^\"]*\"\s*\+?\s*)+)" % name, src)
        specs[kind].append("".join(re.findall(r'"([^"]*)"', m.group(1))))
    out = {}
    for kind in ("dx", "px", "rx"):
        codes = set()
        for body in specs[kind]:
            for item in body.split():
                item = item.split("@")[0]
                for alt in item.split("|"):
                    code = alt.split("*")[0]
                    if code:
                        codes.add(code)
        out[kind] = sorted(codes)
    return out


def read_d_icd(name):
    with open(os.path.join(SHARED, "mimic3-demo", name)) as f:
        return {r["icd9_code"]: (r["short_title"], r["long_title"]) for r in csv.DictReader(f)}


def main():
    used = codes_in_rules()
    ddx = read_d_icd("D_ICD_DIAGNOSES.csv")
    dpx = read_d_icd("D_ICD_PROCEDURES.csv")
    missing = [c for c in used["dx"] if c not in ddx] + [c for c in used["px"] if c not in dpx]
    if missing:
        sys.exit("codes not in D_ICD tables: %s" % " ".join(missing))

    who = {}
    with open(os.path.join(SHARED, "medmaps", "WHO_ATC-DDD_2021-12-03.csv")) as f:
        for r in csv.DictReader(f):
            who.setdefault(r["atc_code"], r["atc_name"])
    ndc2atc3 = {}
    with open(os.path.join(SHARED, "medmaps", "ndc2atc3.csv")) as f:
        for r in csv.DictReader(f):
            ndc2atc3[r["ndc"]] = r["atc3"]
    name2atc = {}
    with gzip.open(os.path.join(SHARED, "medmaps", "mimic_drug_to_atc.csv.gz"), "rt") as f:
        for r in csv.DictReader(f):
            name2atc.setdefault(r["drug"], r["atc_code"])

    products = collections.defaultdict(collections.Counter)
    fields = {}
    with open(os.path.join(SHARED, "mimic3-demo", "PRESCRIPTIONS.csv")) as f:
        for r in csv.DictReader(f):
            ndc, drug = r["ndc"], r["drug"]
            if not re.fullmatch(r"\d{11}", ndc) or ndc == "00000000000":
                continue
            atc5 = name2atc.get(drug)
            if atc5 is None or len(atc5) < 5 or atc5[:5] not in who and atc5 not in who:
                continue
            cls = atc5[:4]
            if ndc in ndc2atc3 and ndc2atc3[ndc] != cls:
                continue
            if any(ch in drug for ch in "\t\n\\"):
                continue
            key = (cls, drug, ndc)
            products[cls][key] += 1
            fields.setdefault(key, (atc5, r))
    rows = []
    for cls in used["rx"]:
        if cls not in who:
            sys.exit("ATC3 %s has no WHO name" % cls)
        ranked = products[cls].most_common()
        mapped = [k for k, _ in ranked if k[2] in ndc2atc3][:3]
        unmapped = [k for k, _ in ranked if k[2] not in ndc2atc3][:1]
        chosen = mapped + unmapped
        if not chosen:
            sys.exit("ATC3 %s: no consistent product in the MIMIC-III demo" % cls)
        for k in chosen:
            atc5, r = fields[k]
            ingredient = who.get(atc5, who.get(atc5[:5], "")).lower()
            weight = products[cls][k] if k[2] in ndc2atc3 else max(1, products[cls][k] // 3)
            rows.append([cls, atc5, ingredient, r["drug"], r["drug_name_poe"], r["drug_name_generic"],
                         r["formulary_drug_cd"], r["gsn"], r["ndc"], r["prod_strength"], r["dose_val_rx"],
                         r["dose_unit_rx"], r["form_val_disp"], r["form_unit_disp"], r["route"], r["drug_type"],
                         "1" if k[2] in ndc2atc3 else "0", str(weight)])

    def swift_table(lines):
        return "\n".join(lines)

    with open(os.path.join(SYN, "ICD9Catalog.swift"), "w") as f:
        f.write("// Generated by tools/synth/make_catalog.py from the MIMIC-III Clinical Database Demo v1.4\n")
        f.write("// (D_ICD_DIAGNOSES, D_ICD_PROCEDURES; ODbL 1.0). Do not edit by hand.\n\n")
        f.write("/// Real ICD-9-CM codes and titles used by the synthetic cohort: `code<TAB>short title<TAB>long title`.\n")
        f.write("enum ICD9Catalog {\n")
        f.write("    static let diagnoses = #\"\"\"\n%s\n\"\"\"#\n\n" %
                swift_table("\t".join([c, *ddx[c]]) for c in used["dx"]))
        f.write("    static let procedures = #\"\"\"\n%s\n\"\"\"#\n}\n" %
                swift_table("\t".join([c, *dpx[c]]) for c in used["px"]))
    with open(os.path.join(SYN, "DrugCatalog.swift"), "w") as f:
        f.write("// Generated by tools/synth/make_catalog.py from the WHO ATC-DDD 2021-12-03 names (via fabkury/atcd),\n")
        f.write("// MIMIC-III demo PRESCRIPTIONS rows, MoleRec ndc2atc3 and ethos mimic_drug_to_atc. Do not edit by hand.\n\n")
        f.write("/// Real ATC3 classes and drug products used by the synthetic cohort.\n")
        f.write("enum DrugCatalog {\n")
        f.write("    /// `atc3<TAB>WHO name` (upper case, as in the WHO file).\n")
        f.write("    static let classes = #\"\"\"\n%s\n\"\"\"#\n\n" %
                swift_table("%s\t%s" % (c, who[c]) for c in used["rx"]))
        f.write("    /// `atc3 atc5 ingredient DRUG DRUG_NAME_POE DRUG_NAME_GENERIC FORMULARY_DRUG_CD GSN NDC PROD_STRENGTH\n")
        f.write("    /// DOSE_VAL_RX DOSE_UNIT_RX FORM_VAL_DISP FORM_UNIT_DISP ROUTE DRUG_TYPE mapped weight`, tab-separated.\n")
        f.write("    /// `mapped` 1: the NDC is in the emitted ndc2atc3.csv; 0: only the name map resolves it.\n")
        f.write("    static let products = #\"\"\"\n%s\n\"\"\"#\n}\n" % swift_table("\t".join(r) for r in rows))
    n_unmapped = sum(1 for r in rows if r[16] == "0")
    print("diagnoses %d, procedures %d, classes %d, products %d (%d unmapped)" %
          (len(used["dx"]), len(used["px"]), len(used["rx"]), len(rows), n_unmapped))


if __name__ == "__main__":
    main()
