"""Trains a small RoBERTa-style byte-level BPE tokenizer and saves it as a model folder would hold it.

stdin: {"out_dir": str, "texts": [str], "vocab_size": int}
stdout: {"vocab_size": int} (the size reached, with the special tokens)
Writes out_dir/tokenizer.json (byte-level BPE with a RobertaProcessing post-processor) and
out_dir/tokenizer_config.json (RobertaTokenizer, <pad> as pad token), so that transformers'
AutoTokenizer and the TypeScript tokenizer read the same files without the hub.
"""
import json
import os
import sys

from tokenizers import ByteLevelBPETokenizer, processors

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def main():
    request = json.load(sys.stdin)
    out_dir = request["out_dir"]
    os.makedirs(out_dir, exist_ok=True)
    tokenizer = ByteLevelBPETokenizer(add_prefix_space=False, trim_offsets=True)
    tokenizer.train_from_iterator(
        request["texts"], vocab_size=request["vocab_size"], min_frequency=2, special_tokens=SPECIAL_TOKENS, show_progress=False
    )
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tokenizer.token_to_id("</s>")), ("<s>", tokenizer.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False
    )
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
    config = {
        "tokenizer_class": "RobertaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": 512,
        "add_prefix_space": False,
        "trim_offsets": True,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    json.dump({"vocab_size": tokenizer.get_vocab_size()}, sys.stdout)


if __name__ == "__main__":
    main()
