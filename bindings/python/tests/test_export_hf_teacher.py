"""tools/export_hf_teacher.py on the tiny random LLaMA fixture, against transformers' own forward (torch,
transformers and safetensors come with make deps-python; without them the tests are skipped by name, and under
CI they fail)."""
import importlib.util
import json
from pathlib import Path

import pytest
from helpers import require

torch = require("torch")
require("transformers")
require("safetensors")

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "Tests/LeaderCoreTests/Fixtures/tiny_llama"
TOOL = Path(__file__).resolve().parents[1] / "tools/export_hf_teacher.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("export_hf_teacher", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_export_matches_unpadded_forward(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, LlamaForCausalLM

    prompts = [
        {"id": "1:10", "split": "train", "text": "The patient has 2 times ICU visits.", "medications": ["N02B"]},
        {"id": "2:20", "split": "train", "text": "In this visit, he has diagnosis: Hypertension NOS.", "medications": []},
        {"id": "3:30", "split": "test", "text": "Then, the patient should be prescribed: ", "medications": ["A02B"]},
        {"id": "4:40", "split": "train", "text": "Acute kidney failure, unspecified; Congestive heart failure; "
                                                 "Atrial fibrillation. " * 4, "medications": ["A02B"]},
    ]
    pj = tmp_path / "prompts.jsonl"
    pj.write_text("".join(json.dumps(p) + "\n" for p in prompts))
    head = torch.randn(3, 64, generator=torch.Generator().manual_seed(1))
    hf = tmp_path / "head.safetensors"
    save_file({"cls_head.weight": head}, str(hf), metadata={"medications": json.dumps(["A02B", "N02B", "C07A"])})
    out = tmp_path / "features.safetensors"
    load_tool().main(["--model", str(TINY), "--head", str(hf), "--prompts", str(pj), "--out", str(out),
                      "--max-tokens", "40", "--batch-size", "2"])

    with safe_open(str(out), "pt") as f:
        meta = f.metadata()
        hidden, logits = f.get_tensor("hidden"), f.get_tensor("logits")
    assert meta["format"] == "leader-teacher-features" and meta["format_version"] == "1"
    ids = json.loads(meta["sample_ids"])
    assert ids == ["1:10", "2:20", "4:40"]           # split train only, in file order
    assert json.loads(meta["medications"]) == ["A02B", "N02B", "C07A"]
    assert hidden.shape == (3, 64) and logits.shape == (3, 3)

    tok = AutoTokenizer.from_pretrained(str(TINY))
    model = LlamaForCausalLM.from_pretrained(str(TINY), dtype=torch.float32).eval()
    for row, p in enumerate([prompts[0], prompts[1], prompts[3]]):
        seq = tok(p["text"], add_special_tokens=False)["input_ids"][-39:] + [tok.eos_token_id if tok.eos_token_id is not None else model.config.eos_token_id]
        assert len(seq) <= 40
        with torch.no_grad():
            h = model(torch.tensor([seq]), output_hidden_states=True).hidden_states[-1][0, -1]
        assert torch.allclose(hidden[row], h, atol=1e-5), row
        assert torch.allclose(logits[row], h @ head.T, atol=1e-5), row


def test_data_fingerprint_is_carried_and_checked(tmp_path):
    from safetensors import safe_open

    fp = "crc32:0badf00d/patients:2/samples:2"
    lines = [{"id": "1:10", "split": "train", "text": "a b c", "data_fingerprint": fp},
             {"id": "2:20", "split": "train", "text": "d e", "data_fingerprint": fp}]
    pj = tmp_path / "prompts.jsonl"
    pj.write_text("".join(json.dumps(p) + "\n" for p in lines))
    out = tmp_path / "f.safetensors"
    tool = load_tool()
    tool.main(["--model", str(TINY), "--prompts", str(pj), "--out", str(out), "--max-tokens", "8"])
    with safe_open(str(out), "pt") as f:
        assert f.metadata()["data_fingerprint"] == fp
    # prompts of two datasets in one file are refused
    lines[1]["data_fingerprint"] = "crc32:00000000/patients:2/samples:2"
    pj.write_text("".join(json.dumps(p) + "\n" for p in lines))
    with pytest.raises(SystemExit):
        tool.main(["--model", str(TINY), "--prompts", str(pj), "--out", str(out), "--max-tokens", "8"])
