"""The residents' side of ``flask demo``: each community's address list and an Open311 client."""
from __future__ import annotations

from extensions import db
from integrations.open311 import new_client
from models import Address, Grid, OrgUnit

DEMO_OPEN311_CLIENT = "demo-311-app"
DEMO_OPEN311_KEY = "demo-open311-key"
BUILDINGS_PER_GRID, UNITS, FLOORS, ROOMS_PER_FLOOR = 2, 2, 6, 2


def demo_addresses(communities: list[OrgUnit], grids: list[Grid]) -> list[Address]:
    """Six buildings per community (two in each grid), 2 units, 6 floors, 2 rooms a floor."""
    rows = []
    for community in communities:
        own = sorted((g for g in grids if g.community is community), key=lambda g: g.code)
        number = 0
        for grid in own:
            west, south = grid.boundary["coordinates"][0][0]
            for k in range(BUILDINGS_PER_GRID):
                number += 1
                lat, lon = south + 0.004 + 0.002 * k, west + 0.003 + 0.004 * k
                for unit in range(1, UNITS + 1):
                    for floor in range(1, FLOORS + 1):
                        for room in range(1, ROOMS_PER_FLOOR + 1):
                            rows.append(Address(community=community, community_id=community.id,
                                                building=f"{number}幢", unit=f"{unit}单元",
                                                room=f"{floor}{room:02d}室", lat=lat, lon=lon))
    return rows


def add_demo_residents(communities: list[OrgUnit], grids: list[Grid]) -> int:
    """Add the address lists and the demo Open311 client to the session; returns the address count."""
    addresses = demo_addresses(communities, grids)
    db.session.add_all(addresses)
    new_client(DEMO_OPEN311_CLIENT, DEMO_OPEN311_KEY)
    return len(addresses)
