import torch

from minitransformers import BertConfig, DecoderBlock, EncoderBlock, GPTConfig
from minitransformers.masks import causal_mask


def test_encoder_block_is_permutation_equivariant_without_positions():
    block = EncoderBlock(BertConfig.preset("tiny")).eval()
    x = torch.randn(2, 7, 64)
    permutation = torch.randperm(7)
    out, _ = block(x)
    out_permuted, _ = block(x[:, permutation])
    assert torch.allclose(out_permuted, out[:, permutation], atol=1e-5)


def test_decoder_block_is_not_permutation_equivariant_with_causal_mask():
    block = DecoderBlock(GPTConfig.preset("tiny")).eval()
    x = torch.randn(1, 6, 64)
    permutation = torch.tensor([5, 4, 3, 2, 1, 0])
    out, _ = block(x, causal_mask(6))
    out_permuted, _ = block(x[:, permutation], causal_mask(6))
    assert not torch.allclose(out_permuted, out[:, permutation], atol=1e-3)


def test_encoder_is_post_ln_and_decoder_is_pre_ln():
    # Post-LN: the block's output is a LayerNorm output (zero mean, unit variance per token).
    encoder = EncoderBlock(BertConfig.preset("tiny")).eval()
    out, _ = encoder(torch.randn(2, 5, 64) * 10 + 3)
    assert torch.allclose(out.mean(-1), torch.zeros(2, 5), atol=1e-4)
    # Pre-LN: the input passes through unnormalised on the residual path; with the
    # sub-layers silenced the block is exactly the identity.
    decoder = DecoderBlock(GPTConfig.preset("tiny")).eval()
    with torch.no_grad():
        decoder.attention.output.weight.zero_()
        decoder.attention.output.bias.zero_()
        decoder.feedforward.contract.weight.zero_()
        decoder.feedforward.contract.bias.zero_()
    x = torch.randn(2, 5, 64) * 10 + 3
    assert torch.equal(decoder(x, causal_mask(5))[0], x)


def test_blocks_return_attention_weights_when_asked():
    block = EncoderBlock(BertConfig.preset("tiny"))
    _, weights = block(torch.randn(2, 4, 64), output_attentions=True)
    assert weights.shape == (2, 2, 4, 4)
