"""UserError: one message, each field spelled by the front end that shows it."""

from seqrnn.errors import UserError, field_error, flag


def test_each_front_end_spells_the_fields_its_own_way():
    err = UserError("{top_k} must be zero or positive, got -1; see {seed}",
                    fields=("top_k", "seed"))
    assert err.render(flag) == "--top-k must be zero or positive, got -1; see --seed"
    assert err.render(str) == str(err) == "top_k must be zero or positive, got -1; see seed"
    assert err.fields == ("top_k", "seed") and err.field == "top_k"


def test_an_error_about_no_field_reads_the_same_everywhere():
    err = UserError("the run folder runs/x is missing")
    assert err.fields == () and err.field is None
    assert err.render(flag) == str(err) == "the run folder runs/x is missing"


def test_a_field_may_be_named_in_words_without_a_placeholder():
    err = UserError("vocab size must be positive, got 0", fields=("vocab_size",))
    assert err.field == "vocab_size"
    assert err.render(flag) == str(err) == "vocab size must be positive, got 0"


def test_field_error_puts_the_field_where_the_braces_are():
    err = field_error("max_prime_chars", "{} must be at least 1, got 0")
    assert err.fields == ("max_prime_chars",)
    assert err.render(flag) == "--max-prime-chars must be at least 1, got 0"
    assert str(err) == "max_prime_chars must be at least 1, got 0"


def test_flag_spells_a_field_as_the_command_line_does():
    assert flag("top_k") == "--top-k" and flag("seed") == "--seed"


def test_a_message_quoting_a_line_break_stays_one_line():
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    err = UserError(f"columns found: a{breaks}b; name {{text_column}}", fields=("text_column",))
    assert err.render(flag) == (r"columns found: a\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029b; "
                                "name --text-column")
    assert len(str(err).splitlines()) == 1
