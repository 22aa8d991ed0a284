#!/usr/bin/env python3
"""Regenerate assets/sae-releases.json from SAELens's pretrained_saes.yaml (data only).

usage: python3 scripts/sae-releases-from-saelens.py PATH/TO/pretrained_saes.yaml [SAELENS_COMMIT] > assets/sae-releases.json

Keeps the releases the refusal method uses (Gemma Scope 2B/9B residual, Llama Scope LXR 8x/32x) and the
chat-model SAEs that are in a format the workbench loads. Neuronpedia ids are copied verbatim from the
yaml; a non-canonical Gemma Scope entry whose file is the canonical pick gets the canonical (bare) id,
which is how Neuronpedia names that dictionary.
"""
import json
import re
import sys

import yaml

WANT = {
    # release id: (title, format, site, HF model, chat models, d_in)
    "gemma-scope-2b-pt-res": ("Gemma Scope 2B res", "gemmascope", "res", "google/gemma-2-2b", ["google/gemma-2-2b-it"], 2304),
    "gemma-scope-2b-pt-res-canonical": ("Gemma Scope 2B res (canonical)", "gemmascope", "res", "google/gemma-2-2b", ["google/gemma-2-2b-it"], 2304),
    "gemma-scope-9b-pt-res": ("Gemma Scope 9B res", "gemmascope", "res", "google/gemma-2-9b", ["google/gemma-2-9b-it"], 3584),
    "gemma-scope-9b-pt-res-canonical": ("Gemma Scope 9B res (canonical)", "gemmascope", "res", "google/gemma-2-9b", ["google/gemma-2-9b-it"], 3584),
    "gemma-scope-9b-it-res": ("Gemma Scope 9B-IT res (chat model)", "gemmascope", "res", "google/gemma-2-9b-it", ["google/gemma-2-9b-it"], 3584),
    "gemma-scope-9b-it-res-canonical": ("Gemma Scope 9B-IT res (chat model, canonical)", "gemmascope", "res", "google/gemma-2-9b-it", ["google/gemma-2-9b-it"], 3584),
    "llama_scope_lxr_8x": ("Llama Scope LXR 8x (32k)", "llamascope", "res", "meta-llama/Llama-3.1-8B", ["meta-llama/Llama-3.1-8B-Instruct"], 4096),
    "llama_scope_lxr_32x": ("Llama Scope LXR 32x (131k)", "llamascope", "res", "meta-llama/Llama-3.1-8B", ["meta-llama/Llama-3.1-8B-Instruct"], 4096),
    "llama-3-8b-it-res-jh": ("Llama-3-8B-Instruct res (jh, chat model)", "saelens", "res", "meta-llama/Meta-Llama-3-8B-Instruct", ["meta-llama/Meta-Llama-3-8B-Instruct"], 4096),
}
NOT_LOADABLE = {
    "llama-3.1-8b-instruct-andyrdt": "dictionary_learning_1 format (BatchTopK trainer checkpoints), not a layout the workbench loads",
    "qwen2.5-7b-instruct-andyrdt": "dictionary_learning_1 format, and Qwen2 is not a supported architecture",
}
WIDTHS = {"4k": 4096, "16k": 16384, "32k": 32768, "65k": 65536, "131k": 131072, "262k": 262144, "524k": 524288, "1m": 1048576}


def main():
    data = yaml.safe_load(open(sys.argv[1]))
    commit = sys.argv[2] if len(sys.argv) > 2 else None
    out = []
    for rid, (title, fmt, site, hf_model, chat, d_in) in WANT.items():
        r = data[rid]
        canon = {}
        if fmt == "gemmascope" and not rid.endswith("-canonical") and f"{rid}-canonical" in data:
            for s in data[f"{rid}-canonical"]["saes"]:
                canon[s["path"]] = s.get("neuronpedia")
        saes = []
        for s in r["saes"]:
            path = s["path"]
            e = {"id": s["id"], "path": path}
            if fmt == "gemmascope":
                m = re.match(r"^layer_(\d+)/width_(\w+)/average_l0_(\d+)$", path)
                if not m:
                    continue  # embedding SAEs
                layer, width, l0 = int(m[1]), m[2], int(m[3])
                e.update(layer=layer, width=width, dSae=WIDTHS[width], l0=l0, hook=f"blocks.{layer}.hook_resid_post")
                e["canonical"] = rid.endswith("-canonical") or path in canon
                np = s.get("neuronpedia") or canon.get(path)
            elif fmt == "llamascope":
                m = re.match(r"^Llama3_1-8B-Base-L(\d+)R-(\d+)x$", path)
                layer, mult = int(m[1]), int(m[2])
                e.update(layer=layer, width={8: "32k", 32: "131k"}[mult], dSae=4096 * mult, l0=s.get("l0"), hook=f"blocks.{layer}.hook_resid_post")
                np = s.get("neuronpedia")
            else:
                m = re.match(r"^blocks\.(\d+)\.hook_resid_post$", s["id"])
                layer = int(m[1])
                e.update(layer=layer, width=None, dSae=None, l0=s.get("l0"), hook=s["id"])
                np = s.get("neuronpedia")
            # a yaml id naming another layer (e.g. 9B layer_2 listed as "20-…") is a copy slip: not used
            if np and re.match(r"^[^/]+/(\d+)-", np) and int(re.match(r"^[^/]+/(\d+)-", np)[1]) != e["layer"]:
                sys.stderr.write(f"{rid} {s['id']}: neuronpedia id {np} names another layer, dropped\n")
                np = None
            e["neuronpedia"] = np
            e["normScalingFactor"] = s.get("norm_scaling_factor")
            saes.append(e)
        saes.sort(key=lambda e: (e["layer"], e["dSae"] or 0, e["l0"] or 0))
        out.append({
            "id": rid,
            "title": title,
            "repoId": r["repo_id"],
            "format": fmt,
            "site": site,
            "conversion": r.get("conversion_func") or "sae_lens",
            "model": hf_model,
            "chatModels": chat,
            "dIn": d_in,
            "neuronpediaModel": next((s["neuronpedia"].split("/")[0] for s in saes if s.get("neuronpedia")), None),
            "saes": saes,
        })
    doc = {
        "schemaVersion": 1,
        "source": f"SAELens pretrained_saes.yaml{' @ ' + commit if commit else ''} (regenerate with scripts/sae-releases-from-saelens.py)",
        "releases": out,
        "notLoadable": [{"id": k, "repoId": data[k]["repo_id"], "reason": v} for k, v in NOT_LOADABLE.items() if k in data],
    }
    # one SAE per line: readable diffs, a fraction of the size of indented JSON
    text = json.dumps(doc, indent=1)
    text = re.sub(r'\{\n\s+"id": "([^"]+)",\n\s+"path"(.*?)\n\s+\}', lambda m: json.dumps(json.loads(m[0]), separators=(", ", ": ")), text, flags=re.S)
    sys.stdout.write(text + "\n")


main()
