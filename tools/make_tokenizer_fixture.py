#!/usr/bin/env python3
"""Writes Tests/LeaderCoreTests/Fixtures/tokenizer/smollm2_prompts.json: a few hundred prompts (LEADER-style
clinical prompts, unicode, digits, whitespace runs, apostrophes, newlines, special tokens) with the ids the
`tokenizers` package gives for SmolLM2-135M-Instruct.

The tokenizer is built from the GGUF's own vocabulary and merges (`gguf` package), with SmolLM2's
pre-tokenizer: Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False)] -- what the
model's tokenizer.json on the hub declares and what llama.cpp runs for `tokenizer.ggml.pre = "smollm"`.
`transformers`' GGUF loader drops the Digits step (its converter ignores tokenizer.ggml.pre); the script
counts where that changes ids and records the count (it can only matter for non-ASCII numerals, since no
SmolLM2 token joins an ASCII digit to anything).

Usage: python tools/make_tokenizer_fixture.py models/SmolLM2-135M-Instruct.Q4_1.gguf
Needs: pip install gguf tokenizers (and transformers + torch for the cross-check, optional).
"""
import json, os, random, sys

import gguf
from tokenizers import Tokenizer, AddedToken, decoders, models, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures/tokenizer/smollm2_prompts.json")


def field(r, name):
    f = r.fields[name]
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [int(f.parts[i][0]) for i in f.data]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]][0]


def build_tokenizer(path):
    r = gguf.GGUFReader(path)
    assert field(r, "tokenizer.ggml.pre") == "smollm", field(r, "tokenizer.ggml.pre")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ")) for m in field(r, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    specials = [AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty in (3, 4)]
    tok.add_special_tokens(specials)
    return tok


DIAG = ["Hypertension NOS", "Diabetes mellitus without complication, type II or unspecified type, not stated as "
        "uncontrolled", "Acute kidney failure, unspecified", "Congestive heart failure, unspecified",
        "Atrial fibrillation", "Pneumonia, organism unspecified", "Urinary tract infection, site not specified",
        "Esophageal reflux", "Hyperlipidemia NEC/NOS", "Acute respiratory failure", "Anemia, unspecified",
        "Coronary atherosclerosis of native coronary artery", "Chronic airway obstruction, not elsewhere "
        "classified", "Depressive disorder, not elsewhere classified", "Hypothyroidism NOS",
        "Sepsis", "Severe sepsis", "Obstructive sleep apnea (adult)(pediatric)", "Tobacco use disorder",
        "Personal history of malignant neoplasm of breast", "Alzheimer's disease", "Crohn's disease of "
        "unspecified site", "Parkinson's disease", "Hodgkin's paragranuloma", "Cushing's syndrome",
        "Pure hypercholesterolemia", "Long-term (current) use of insulin", "E. coli infection",
        "Subendocardial infarction, initial episode of care", "Hyposmolality and/or hyponatremia"]
PROC = ["Venous catheterization, not elsewhere classified", "Insertion of endotracheal tube",
        "Continuous invasive mechanical ventilation for less than 96 consecutive hours", "Enteral infusion of "
        "concentrated nutritional substances", "Transfusion of packed cells", "Hemodialysis",
        "(Aorto)coronary bypass of three coronary arteries", "Extracorporeal circulation auxiliary to open "
        "heart surgery", "Left heart cardiac catheterization", "Coronary arteriography using two catheters",
        "Percutaneous [endoscopic] gastrostomy [PEG]", "Arterial catheterization", "Spinal tap",
        "Closed [endoscopic] biopsy of bronchus", "Insertion of non-drug-eluting coronary artery stent(s)"]
MEDS = ["N02B", "A02B", "B01A", "C07A", "A12B", "C03C", "J01D", "N05B", "A06A", "C10A", "H03A", "R03A",
        "Other analgesics and antipyretics", "Drugs for peptic ulcer and GORD", "Antithrombotic agents",
        "Beta blocking agents", "High-ceiling diuretics", "Insulins and analogues"]
PROFILE = ["The patient's insurance is Medicare, language is ENGL, religion is CATHOLIC, marital status is "
           "MARRIED, ethnicity is WHITE.", "The patient is a 67 year old female.", "The patient's insurance "
           "is Private, marital status is SINGLE, ethnicity is BLACK/AFRICAN AMERICAN.",
           "Admission type: EMERGENCY; age 81-90; gender F."]


def leader_prompt(rng):
    n = rng.randint(1, 3)
    parts = [rng.choice(["", rng.choice(PROFILE) + " "]) + f"The patient has {n} times ICU visits. \n "]
    for v in range(1, n):
        d = ", ".join(rng.sample(DIAG, rng.randint(1, 2)))
        p = rng.choice(PROC)
        m = ", ".join(rng.sample(MEDS, rng.randint(1, 2)))
        parts.append(f"In {v} visit, the patient had diagnosis: {d}; procedures: {p}. The patient was "
                     f"prescribed drugs: {m}. \n ")
    d = ", ".join(rng.sample(DIAG, rng.randint(1, 2)))
    p = rng.choice(PROC)
    parts.append(f"In this visit, he has diagnosis: {d}; procedures: {p}. Then, the patient should be "
                 f"prescribed: ")
    return "".join(parts)


EDGE = [
    "", " ", "  ", "\n", "\n\n", " \n ", "\t", "a", "A", "0", "00", "2023-10-05", "3.14159", "1,000,000",
    "The patient was diagnosed with type 2 diabetes mellitus.",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "<|im_start|><|im_end|>", "text<|im_end|>text", "<|im_start", "<|im_start|>user\n"
    "hi<|im_end|><|endoftext|>", "< |im_start| >", "<repo_name>x<file_sep>y<filename>",
    "patient's", "patients'", "the patient's wife's", "I'm", "you're", "we've", "they'll", "she'd", "don't",
    "DON'T", "PATIENT'S", "It'S", "'s", "''s", "'''", "rock'n'roll", "patient’s (curly)", "O'Brien's",
    "dose: 5 mg  q6h", "BP 120/80 mmHg, HR 88 bpm, SpO2 97%", "Temp 38.5°C", "pH 7.35–7.45",
    "   leading spaces", "trailing spaces   ", "tabs\tand\ttabs", "many\n\n\nnewlines", "crlf\r\nline\r\n",
    "spaces   \n   mixed \t \n", "a  b   c    d", "  \n  x", "x \n", "end with space ", "end with newline\n",
    "naïve café résumé", "Müller-Lüdenscheidt", "Ångström", "façade", "São Paulo", "Œuvre",
    "Ελληνικά κείμενο", "Русский текст", "日本語のテキスト", "中文文本测试", "한국어 텍스트", "עברית", "العربية",
    "हिन्दी", "ไทย", "emoji 🙂👍🏽 ok", "👨‍👩‍👧‍👦 family", "ZWJ\u200dtest", "zero\u200bwidth", "nbsp\u00a0here",
    "ideographic\u3000space", "em\u2003space", "line\u2028separator", "x²+y²", "½ tablet", "Ⅻ roman",
    "٣ arabic-indic digit", "१२३ devanagari digits", "①②③", "𝟘𝟙 math digits", "ß", "ﬁ ligature",
    "İstanbul", "ǅ titlecase", "ʰ modifier", "a\u0301 combining", "🇫🇷 flag", "\u00ad soft hyphen",
    "$$$ ### @@@", "...!!!???", "(a)[b]{c}", "--flag=value", "C++ / C#", "e.g., i.e., etc.",
    "https://example.org/path?q=1&r=2", "user@example.com", "#hashtag @mention", "a_b_c", "x=y+z*2",
    "supercalifragilisticexpialidocious" * 3, "pneumonoultramicroscopicsilicovolcanoconiosis",
    "ICD-9 401.9, 250.00, 584.9; ATC N02B A02B", "NDC 00093-7180-01", "q4h PRN; b.i.d.; t.i.d.",
    "Mg2+ K+ Na+ Cl- HCO3-", "COVID-19", "SARS-CoV-2", "H2O2", "C6H12O6", "β-blocker", "α-glucosidase",
    "µg/kg/min", "±5%", "≥ 65 years", "≤3", "→ ← ↑ ↓", "™ ® ©", "\x00nul\x01ctl\x7f", "\x1b[31mred",
    "tab\t\t\tend", " \t \t", "new\n line\n\n  indented", "!!\n!!", "x'", "'", "' ", " 's", "a 's",
]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    tok = build_tokenizer(path)
    rng = random.Random(5)
    texts = list(EDGE)
    texts += [leader_prompt(rng) for _ in range(150)]
    # Short random mixes of fragments: words, digits, spaces, punctuation, unicode.
    frags = ["the", " patient", "'s", "'S", " ", "  ", "\n", "\t", "7", "42", " 3", ".", ",", ";", "’", "é",
             "ü", "日本", "🙂", "²", "½", "-", "(", ")", "NOS", " ICU", " mg", "\r\n", "'ll", "\u00a0", "٣"]
    for _ in range(100):
        texts.append("".join(rng.choice(frags) for _ in range(rng.randint(1, 12))))
    entries = []
    tok.encode_special_tokens = False
    special = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    tok.encode_special_tokens = True
    plain = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    for t, a, b in zip(texts, special, plain):
        e = {"text": t, "ids": a}
        if a != b:
            e["ids_specials_as_text"] = b
        entries.append(e)
    disagreements = None
    try:  # transformers' own GGUF tokenizer (no Digits step), as a cross-check only
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path))
        disagreements = [t for t, a in zip(texts, special) if hf(t, add_special_tokens=False)["input_ids"] != a]
        print("transformers GGUF tokenizer disagrees on", len(disagreements), "of", len(texts), ":",
              [d[:30] for d in disagreements[:8]])
    except Exception as e:  # noqa: BLE001
        print("transformers cross-check skipped:", e)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    doc = {"source": os.path.basename(path), "pre_tokenizer": "Digits(individual) + ByteLevel",
           "transformers_gguf_disagreements": None if disagreements is None else len(disagreements),
           "prompts": entries}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    print("wrote", OUT, len(entries), "prompts,", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
