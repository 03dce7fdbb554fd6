"""Sockeye 3 transformer models to CTranslate2, whose C++ beam search serves them.

No converter from Sockeye is published, so this one follows CTranslate2's own (marian.py):
every unsupported option is collected and refused together, before anything is written,
and the spec is filled by one small function per layer kind, so that the mapping from
Sockeye's parameter names to CTranslate2's reads like a table.

Two things are easy to get wrong. Sockeye saves the key and value projections interleaved
per head (SockeyeModel.save_parameters calls interleave_kv); CTranslate2 takes all keys,
then all values. So the model is loaded with Sockeye's own loader and put back into its
training layout with Sockeye's own `separate_kv`, rather than by reshaping on the
assumption. And Sockeye's fixed positional encodings (the sine half, then the cosine half)
are handed over as they are, with the embedding scaling by sqrt(model size) that both share.
"""
import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from data_prep.errors import S2SError
from seq2seq.engines.translator import OUTPUT_LENGTH_FACTOR

logger = logging.getLogger(__name__)

# What the CTranslate2 translator needs besides CTranslate2's own files.
SETTINGS_FILE = "s2s.json"
# Sockeye's layer-norm epsilon (transformer.TransformerProcessBlock).
LAYER_NORM_EPSILON = 1e-6


@dataclass(frozen=True)
class Ct2Settings:
    """The model's length limits, so that CTranslate2 decodes within Sockeye's bounds."""
    # Subwords per input sentence, without the end-of-sentence; longer input is translated in chunks.
    max_input_length: int
    # Target positions the model has encodings for, the start symbol's included.
    max_output_length: int
    # The end-of-sentence symbol (Sockeye's), which CTranslate2 returns when asked.
    eos: str

    def max_decoding_length(self, input_length: int) -> int:
        """The subwords that CTranslate2 may generate for an input of `input_length` subwords: as many as
        Sockeye gives that input (the end-of-sentence it forces at its bound included), and no more than
        the model has positions for."""
        return min(math.ceil(OUTPUT_LENGTH_FACTOR * (input_length + 1)), self.max_output_length) - 1

    def save(self, directory: Path) -> None:
        (directory / SETTINGS_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Ct2Settings":
        return cls(**json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8")))


def _activation(name: str):
    from ctranslate2.specs import common_spec

    # Sockeye's gelu is torch's exact (erf) GELU, which is CTranslate2's GELU.
    return {"relu": common_spec.Activation.RELU, "gelu": common_spec.Activation.GELU,
            "swish1": common_spec.Activation.SWISH}.get(name)


def _unsupported(config) -> list[str]:
    """Every option of a Sockeye model that this converter cannot carry over, each by name."""
    encoder, decoder = config.config_encoder, config.config_decoder
    reasons = []

    def check(ok: bool, reason: str) -> None:
        if not ok:
            reasons.append(reason)

    check(config.config_data.num_source_factors == 1, "source factors (--source-factors)")
    check(config.config_data.num_target_factors == 1, "target factors (--target-factors)")
    check(config.config_data.eop_id == -1, "prepended source tokens (--end-of-prepending-tag)")
    check(not config.lhuc, "LHUC (--lhuc)")
    check(config.neural_vocab_selection is None, "neural vocabulary selection (--neural-vocab-selection)")
    check(decoder.decoder_type == "transformer", f"decoder type {decoder.decoder_type!r} (--decoder); only "
                                                 "'transformer'")
    for side, c in (("encoder", encoder), ("decoder", decoder)):
        check((c.preprocess_sequence, c.postprocess_sequence) == ("n", "dr"),
              f"{side} pre/post-processing {c.preprocess_sequence!r}/{c.postprocess_sequence!r} "
              "(--transformer-preprocess/--transformer-postprocess); only the pre-norm 'n'/'dr'")
        check(c.positional_embedding_type in ("fixed", "learned"),
              f"{side} positional embeddings {c.positional_embedding_type!r} (--transformer-positional-"
              "embedding-type); only 'fixed' or 'learned'")
        check(_activation(c.act_type) is not None, f"{side} activation {c.act_type!r} "
                                                   "(--transformer-activation-type); only relu, gelu or swish1")
        check(not c.use_glu, f"{side} gated linear units (--transformer-feed-forward-use-glu)")
        check(not c.use_lhuc, f"{side} LHUC (--lhuc)")
    check(encoder.model_size == decoder.model_size, f"different encoder and decoder widths ({encoder.model_size} "
                                                    f"and {decoder.model_size})")
    check(encoder.attention_heads == decoder.attention_heads, "different encoder and decoder attention heads")
    check(encoder.act_type == decoder.act_type, "different encoder and decoder activations")
    check(decoder.depth_key_value in (0, encoder.model_size), "a cross-attention key/value width "
                                                              f"({decoder.depth_key_value}) unlike the encoder's")
    check(not decoder.block_prepended_cross_attention, "--transformer-block-prepended-cross-attention")
    return reasons


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def set_layer_norm(spec, weights: dict, scope: str) -> None:
    spec.gamma = weights[f"{scope}.layer_norm.weight"]
    spec.beta = weights[f"{scope}.layer_norm.bias"]


def set_linear(spec, weights: dict, scope: str) -> None:
    spec.weight = weights[f"{scope}.weight"]
    if f"{scope}.bias" in weights:
        spec.bias = weights[f"{scope}.bias"]


def set_self_attention(spec, weights: dict, scope: str, norm: str) -> None:
    # ff_in holds the query, key and value projections, in that order once separated.
    set_linear(spec.linear[0], weights, f"{scope}.ff_in")
    set_linear(spec.linear[1], weights, f"{scope}.ff_out")
    set_layer_norm(spec.layer_norm, weights, norm)


def set_cross_attention(spec, weights: dict, scope: str, norm: str) -> None:
    set_linear(spec.linear[0], weights, f"{scope}.ff_q")
    # ff_kv holds the key projection, then the value projection, once separated.
    set_linear(spec.linear[1], weights, f"{scope}.ff_kv")
    set_linear(spec.linear[2], weights, f"{scope}.ff_out")
    set_layer_norm(spec.layer_norm, weights, norm)


def set_ffn(spec, weights: dict, scope: str) -> None:
    set_linear(spec.linear_0, weights, f"{scope}.ff.ff1")
    set_linear(spec.linear_1, weights, f"{scope}.ff.ff2")
    set_layer_norm(spec.layer_norm, weights, f"{scope}.pre_ff")


def set_encoder(spec, weights: dict) -> None:
    spec.embeddings[0].weight = weights["embedding_source.embedding.weight"]
    spec.position_encodings.encodings = weights["encoder.pos_embedding.weight"]
    set_layer_norm(spec.layer_norm, weights, "encoder.final_process")
    for i, layer in enumerate(spec.layer):
        scope = f"encoder.layers.{i}"
        set_self_attention(layer.self_attention, weights, f"{scope}.self_attention", f"{scope}.pre_self_attention")
        set_ffn(layer.ffn, weights, scope)


def set_decoder(spec, weights: dict) -> None:
    spec.embeddings.weight = weights["embedding_target.embedding.weight"]
    spec.position_encodings.encodings = weights["decoder.pos_embedding.weight"]
    set_layer_norm(spec.layer_norm, weights, "decoder.final_process")
    set_linear(spec.projection, weights, "output_layer")
    for i, layer in enumerate(spec.layer):
        scope = f"decoder.layers.{i}"
        set_self_attention(layer.self_attention, weights, f"{scope}.autoregr_layer", f"{scope}.pre_autoregr_layer")
        set_cross_attention(layer.attention, weights, f"{scope}.enc_attention", f"{scope}.pre_enc_attention")
        set_ffn(layer.ffn, weights, scope)


def _tokens(vocabulary: dict[str, int]) -> list[str]:
    return [token for token, _ in sorted(vocabulary.items(), key=lambda item: item[1])]


def convert(model_dir: Path, output: Path) -> Ct2Settings:
    """Writes the CTranslate2 model (float32; int8 is chosen when it is loaded) of the Sockeye
    model in `model_dir` into the existing, empty directory `output`."""
    from ctranslate2.specs import transformer_spec
    from sockeye import constants as C
    from sockeye import layers
    from sockeye.model import SockeyeModel, load_model

    config = SockeyeModel.load_config(str(Path(model_dir) / C.CONFIG_NAME))
    reasons = _unsupported(config)
    if reasons:
        raise S2SError(f"{model_dir}: cannot convert this Sockeye model to CTranslate2: {'; '.join(reasons)}")
    model, source_vocabs, target_vocabs = load_model(str(model_dir), inference_only=True)
    # Back to Sockeye's training layout: keys, then values, as CTranslate2 takes them.
    model.apply(layers.separate_kv)
    weights = {name: _numpy(tensor) for name, tensor in model.state_dict().items() if "traced" not in name}
    encoder = config.config_encoder
    # The attention a translation returns, which places markup (documents/inline.py), averages every head of
    # the last layer: on the demo, 98.3% of lexicon words aligned to their translation, against 97.8% with
    # CTranslate2's default, the first head alone, and 82-84% with the layer below.
    spec = transformer_spec.TransformerSpec.from_config(
        (encoder.num_layers, config.config_decoder.num_layers), encoder.attention_heads, pre_norm=True,
        activation=_activation(encoder.act_type), alignment_heads=config.config_decoder.attention_heads)
    set_encoder(spec.encoder, weights)
    set_decoder(spec.decoder, weights)
    spec.register_source_vocabulary(_tokens(source_vocabs[0]))
    spec.register_target_vocabulary(_tokens(target_vocabs[0]))
    # Sockeye ends every source sentence with its end-of-sentence symbol, and starts decoding from <s>.
    spec.config.add_source_eos = True
    spec.config.unk_token, spec.config.bos_token, spec.config.eos_token = C.UNK_SYMBOL, C.BOS_SYMBOL, C.EOS_SYMBOL
    spec.config.decoder_start_token = C.BOS_SYMBOL
    spec.config.layer_norm_epsilon = LAYER_NORM_EPSILON
    spec.validate()
    spec.optimize(quantization="float32")
    spec.save(str(output))
    settings = Ct2Settings(max_input_length=model.max_supported_len_source - C.SPACE_FOR_XOS,
                           max_output_length=model.max_supported_len_target, eos=C.EOS_SYMBOL)
    settings.save(Path(output))
    logger.info("converted %s to CTranslate2 in %s", model_dir, output)
    return settings
