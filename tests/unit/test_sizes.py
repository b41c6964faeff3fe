import pytest

from dask_parallel.errors import JobValidationError
from dask_parallel.spec.sizes import is_binding, parse_byte_size, parse_mini_batch_size


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10", 10),
        ("0", 0),
        ("10kb", 10240),
        ("10KB", 10240),
        ("10Mb", 10485760),
        ("1gb", 1073741824),
        ("1mB", 1048576),
    ],
)
def test_parses_like_azure(text, expected):
    assert parse_mini_batch_size(text) == expected


@pytest.mark.parametrize("text", ["10 kb", "1.5mb", "10tb", "", "kb", "-1", "100KBkb"])
def test_rejects_with_the_regex_in_the_message(text):
    with pytest.raises(JobValidationError, match=r"mini_batch_size must"):
        parse_mini_batch_size(text)


def test_rejection_names_the_value_and_the_rule():
    with pytest.raises(JobValidationError) as info:
        parse_mini_batch_size("10 kb")
    assert "^\\d+([kKmMgG][bB])*$" in str(info.value)
    assert "'10 kb'" in str(info.value)


def test_bindings():
    assert is_binding("${{parent.inputs.mbs}}")
    assert not is_binding("10kb")


def test_byte_size():
    assert parse_byte_size("10mb", "partition_size") == 10 * 1024**2
    assert parse_byte_size(5, "partition_size") == 5
    with pytest.raises(JobValidationError, match="partition_size"):
        parse_byte_size(0, "partition_size")
