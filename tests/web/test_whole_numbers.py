"""Numbers in query strings: '²' passes ``str.isdigit`` and ``int`` refuses it; 20 digits
overflow the database's integer columns. Either was a 500 from the list endpoints."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.numbers import MAX_ID, whole_number

ODD_NUMBERS = ["²", "١٢", "99999999999999999999", "2147483648", "-1", " 7", "0x10"]


@given(st.text(max_size=25))
def test_whole_number_is_a_number_or_none(text):
    value = whole_number(text)
    assert value is None or (0 <= value <= MAX_ID and value == int(text))


@pytest.mark.parametrize("query", [
    "/api/v1/devices?limit={n}", "/api/v1/devices?cursor={n}", "/api/v1/alarms?limit={n}",
    "/api/v1/alarms?cursor={n}", "/api/v1/alarms?device={n}", "/api/v1/dead-letters?cursor={n}",
    "/api/v1/processes/routing.dmn?version={n}",
])
def test_odd_numbers_in_list_filters_are_a_400(client, auth, query):
    headers = auth("admin")
    for odd in ODD_NUMBERS:
        answer = client.get(query.format(n=odd), headers=headers)
        assert answer.status_code == 400, (odd, answer.status_code, answer.get_json())
        assert answer.get_json()["error"]
