import pytest

from minitransformers import BertConfig, BertModel, GPTConfig, GPTLMHeadModel


def test_presets_and_overrides():
    config = GPTConfig.preset("mini", n_layers=6)
    assert config.n_layers == 6 and config.hidden_size == 256
    assert config.intermediate_size == 1024
    assert BertConfig.preset("bert-base").head_size == 64


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(hidden_size=65, n_heads=2), "divisible by n_heads"),
        (dict(n_layers=0), "n_layers must be at least 1"),
        (dict(hidden_dropout=1.5), "hidden_dropout"),
        (dict(activation="swish"), "unknown activation"),
        (dict(attn_impl="flash"), "attn_impl"),
        (dict(pad_token_id=5000), "outside the vocabulary"),
    ],
)
def test_invalid_configs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BertConfig(**kwargs)


def test_unknown_preset_and_fields():
    with pytest.raises(ValueError, match="choose one of"):
        GPTConfig.preset("huge")
    with pytest.raises(ValueError, match="unknown GPTConfig fields"):
        GPTConfig.from_dict({"n_layer": 3})


def test_round_trip_through_dict():
    config = BertConfig.preset("tiny", num_labels=5)
    assert BertConfig.from_dict(config.to_dict()) == config


def test_unknown_component_names_list_the_choices():
    with pytest.raises(ValueError, match="unknown norm 'batchnorm'; choose one of"):
        BertModel(BertConfig.preset("tiny", norm="batchnorm"))


@pytest.mark.parametrize(
    "config, expected_millions",
    [(GPTConfig.preset("gpt2"), 124.4), (BertConfig.preset("bert-base"), 109.5)],
)
def test_real_presets_have_the_published_sizes(config, expected_millions):
    model = GPTLMHeadModel(config) if isinstance(config, GPTConfig) else BertModel(config)
    assert model.num_parameters() / 1e6 == pytest.approx(expected_millions, abs=0.1)
