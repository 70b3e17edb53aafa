"""A refused checkpoint says why in the reader's language: Chinese under using("zh"), English by default."""

import pytest

from optlab.i18n import using
from optlab.mnist.checkpoint import CheckpointError, read_checkpoint


@pytest.mark.parametrize(
    ("data", "chinese", "english"),
    [
        (b"hello, not a zip archive", "这个文件不是 optlab 检查点：它不是 torch.save 保存的 zip 压缩包",
         "This file is not an optlab checkpoint: it is not a zip archive saved by torch.save"),
        ("text", "检查点必须是一个文件的字节内容", "A checkpoint must be a file's bytes"),
    ],
)
def test_refused_checkpoint_message_is_in_the_readers_language(data, chinese, english):
    with using("zh"), pytest.raises(CheckpointError) as zh:
        read_checkpoint(data)
    assert chinese in str(zh.value)
    assert "请用本页的“下载检查点”按钮下载一个检查点" in str(zh.value)
    with pytest.raises(CheckpointError) as en:
        read_checkpoint(data)
    assert english in str(en.value)
