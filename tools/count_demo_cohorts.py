#!/usr/bin/env python3
"""Independent pandas count of the MIMIC-III and MIMIC-IV demo cohorts, as `leader prepare` should build them.

Usage: python3 tools/count_demo_cohorts.py [DATA_DIR] > Tests/LeaderCoreTests/Fixtures/demo_counts.json
DATA_DIR defaults to ../shared/data relative to the repository root (holds mimic3-demo/, mimic4-demo/hosp/, medmaps/).

How each number is derived (written without looking at the Swift code's data structures; only the documented
rules of docs/data.md are shared):
- Visits: rows of ADMISSIONS (hadm_id, subject_id).
- Diagnosis / procedure events: rows of DIAGNOSES_ICD / PROCEDURES_ICD whose hadm_id is an admission and whose code
  is non-empty; key = code (MIMIC-III) or "<icd_version>:<code>" (MIMIC-IV); de-duplicated per (hadm_id, key).
  Frequency of a code = number of distinct (hadm_id, key) pairs.
- Medication rows: PRESCRIPTIONS rows whose hadm_id is an admission. NDC normalised (strip, drop a trailing ".0",
  digits only, not all zeros, left-padded to 11) and looked up in ndc2atc3.csv (first row per NDC wins); if that
  fails, each space-separated GSN (digits only, not all zeros, left-padded to 6) in gsn_atc_ndc_mapping.csv.gz
  (first row per GSN wins; the first GSN that maps); if that fails, the drug name (lower-cased, stripped) in mimic_drug_to_atc.csv.gz (first row per name wins); ATC code
  truncated to 4 characters. Counted as "ndc", "gsn", "name" or "unmapped" rows.
  Frequency of an ATC3 = number of distinct (hadm_id, start date string, drug name, ATC3) rows (LEADER's
  drop_duplicates after mapping).
- Top-K: codes ranked by frequency descending, then key ascending; the first K kept (None = all).
- A visit is kept when, after top-K, it has at least one diagnosis, one procedure and one medication.
- Patients: subjects with at least one kept visit. Single-visit patients: exactly one kept visit.
- codes[kind]: distinct codes over kept visits; occurrences[kind]: sum over kept visits of distinct codes.
Two configurations per demo: the defaults (MIMIC-III 300/2000/all, MIMIC-IV 300/2000/1000) and a small one
(40/100/50) that makes top-K and its tie-breaking bite.
"""
import json
import os
import sys

import pandas as pd


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def lower_cols(df):
    df.columns = [c.strip().lower() for c in df.columns]
    return df


def find(folder, name):
    for base in (name, name.upper(), name.lower()):
        for ext in (".csv", ".csv.gz"):
            p = os.path.join(folder, base + ext)
            if os.path.exists(p):
                return p
    raise FileNotFoundError(f"{folder}/{name}")


def norm_ndc(s):
    s = s.strip()
    if s.endswith(".0"):
        s = s[:-2]
    if not s or not s.isdigit() or set(s) == {"0"}:
        return None
    return s.zfill(11)


def load_maps(maps):
    ndc = read(os.path.join(maps, "ndc2atc3.csv"))
    ndc["k"] = ndc["ndc"].map(norm_ndc)
    ndc["atc3"] = ndc["atc3"].str.strip()
    ndc = ndc[ndc["k"].notna() & (ndc["atc3"].str.len() >= 4)].drop_duplicates("k", keep="first")
    ndc_map = dict(zip(ndc["k"], ndc["atc3"].str[:4]))
    name = read(os.path.join(maps, "mimic_drug_to_atc.csv.gz"))
    name["k"] = name["drug"].str.strip().str.lower()
    name["atc_code"] = name["atc_code"].str.strip()
    name = name[(name["k"] != "") & (name["atc_code"].str.len() >= 4)].drop_duplicates("k", keep="first")
    name_map = dict(zip(name["k"], name["atc_code"].str[:4]))
    gsn = read(os.path.join(maps, "gsn_atc_ndc_mapping.csv.gz"))
    gsn["k"] = gsn["gsn"].map(norm_gsn)
    gsn["atc"] = gsn["atc"].str.strip()
    gsn = gsn[gsn["k"].notna() & (gsn["atc"].str.len() >= 4)].drop_duplicates("k", keep="first")
    gsn_map = dict(zip(gsn["k"], gsn["atc"].str[:4]))
    return ndc_map, gsn_map, name_map


def norm_gsn(s):
    s = s.strip()
    if not s or len(s) > 6 or not s.isdigit() or set(s) == {"0"}:
        return None
    return s.zfill(6)


def by_gsn(field, gsn_map):
    for token in field.split(" "):
        k = norm_gsn(token) if token else None
        if k is not None and k in gsn_map:
            return gsn_map[k]
    return None


def top_k(freq, k):
    ranked = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))
    if k is not None:
        ranked = ranked[:k]
    return {code for code, _ in ranked}


def count(folder, maps, mimic4, limits):
    names = dict(adm="admissions", dx="diagnoses_icd", px="procedures_icd", rx="prescriptions")
    adm = lower_cols(read(find(folder, names["adm"])))
    visits = set(adm["hadm_id"].str.strip())
    subject_of = dict(zip(adm["hadm_id"].str.strip(), adm["subject_id"].str.strip()))

    def events(table):
        df = lower_cols(read(find(folder, table)))
        df["hadm_id"] = df["hadm_id"].str.strip()
        code = "icd_code" if mimic4 else "icd9_code"
        df["code"] = df[code].str.strip()
        df = df[df["hadm_id"].isin(visits) & (df["code"] != "")]
        if mimic4:
            df["code"] = df["icd_version"].str.strip() + ":" + df["code"]
        return df[["hadm_id", "code"]].drop_duplicates()

    dx, px = events(names["dx"]), events(names["px"])
    rx = lower_cols(read(find(folder, names["rx"])))
    rx["hadm_id"] = rx["hadm_id"].str.strip()
    rx = rx[rx["hadm_id"].isin(visits)].copy()
    ndc_map, gsn_map, name_map = load_maps(maps)
    start = "starttime" if mimic4 else "startdate"
    atc, route = [], []
    for n, g, d in zip(rx["ndc"], rx["gsn"], rx["drug"]):
        k = norm_ndc(n)
        if k is not None and k in ndc_map:
            atc.append(ndc_map[k]); route.append("ndc")
        elif by_gsn(g.strip(), gsn_map) is not None:
            atc.append(by_gsn(g.strip(), gsn_map)); route.append("gsn")
        elif d.strip() and d.strip().lower() in name_map:
            atc.append(name_map[d.strip().lower()]); route.append("name")
        else:
            atc.append(None); route.append("unmapped")
    rx["code"], rx["route"] = atc, route
    routes = rx["route"].value_counts().to_dict()
    mapped = rx[rx["code"].notna()].copy()
    mapped["start"] = mapped[start].str.strip()
    mapped["drugname"] = mapped["drug"]
    med_freq = mapped[["hadm_id", "start", "drugname", "code"]].drop_duplicates()["code"].value_counts().to_dict()
    med = mapped[["hadm_id", "code"]].drop_duplicates()

    kept_sets = {}
    for kind, df, freq, k in (
        ("diagnosis", dx, dx["code"].value_counts().to_dict(), limits["diagnosis"]),
        ("procedure", px, px["code"].value_counts().to_dict(), limits["procedure"]),
        ("medication", med, med_freq, limits["medication"]),
    ):
        keep = top_k(freq, k)
        sub = df[df["code"].isin(keep)]
        kept_sets[kind] = sub.groupby("hadm_id")["code"].apply(set).to_dict()
    kept_visits = [h for h in visits if all(h in kept_sets[k] for k in kept_sets)]
    per_patient = {}
    for h in kept_visits:
        per_patient.setdefault(subject_of[h], []).append(h)
    out = {
        "patients": len(per_patient),
        "visits": len(kept_visits),
        "single_visit_patients": sum(1 for v in per_patient.values() if len(v) == 1),
        "codes": {}, "occurrences": {},
        "medication_rows": {r: int(routes.get(r, 0)) for r in ("ndc", "gsn", "name", "unmapped")},
    }
    for kind, sets in kept_sets.items():
        codes = set()
        occ = 0
        for h in kept_visits:
            codes |= sets[h]
            occ += len(sets[h])
        out["codes"][kind] = len(codes)
        out["occurrences"][kind] = occ
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data")
    maps = os.path.join(data, "medmaps")
    small = {"medication": 40, "diagnosis": 100, "procedure": 50}
    result = {
        "mimic3": {
            "default": count(os.path.join(data, "mimic3-demo"), maps, False,
                             {"medication": 300, "diagnosis": 2000, "procedure": None}),
            "small": count(os.path.join(data, "mimic3-demo"), maps, False, small),
        },
        "mimic4": {
            "default": count(os.path.join(data, "mimic4-demo", "hosp"), maps, True,
                             {"medication": 300, "diagnosis": 2000, "procedure": 1000}),
            "small": count(os.path.join(data, "mimic4-demo", "hosp"), maps, True, small),
        },
    }
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
