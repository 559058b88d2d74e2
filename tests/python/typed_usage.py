"""A typed caller of hospital_locator, checked by `mypy --strict` (the ctest "python: types").

Not run: mypy reads it against the package (its stubs _core.pyi, its typed Python modules,
py.typed). Each line uses the API as the README and bindings/python/README.md show it, with
the types a caller would write, so a stub that drifts from the module (a renamed property, a
wrong return type) fails here. The lines marked MISTAKE must be refused, each with one error:
check_types.py fails on any other error, and on a mistake let through (a stub gone Any).
"""
from __future__ import annotations

import pickle
from typing import Any, Dict, List, Optional

import numpy as np
import numpy.typing as npt

import hospital_locator as hl


def nearest_phone(index: hl.Index, postcode: str) -> Optional[str]:
    answer: hl.Nearest = index.nearest(postcode, k=3, treatment="kyphoplasty", max_miles=100.0)
    for n in answer:
        rank: int = n.rank
        miles: float = n.distance_miles
        compass: str = n.compass
        assert rank >= 1 and miles >= 0 and compass
        return n.phone.display
    return None


def report(index: hl.Index, postcodes: List[str]) -> Dict[str, Any]:
    batch: hl.NearestBatch = index.nearest_many(postcodes, k=3, threads=2)
    ids: npt.NDArray[np.str_] = batch.site_ids
    metres: npt.NDArray[np.float64] = batch.distance_m
    problems: Dict[int, str] = batch.messages
    looked: hl.LookupBatch = index.lookup_many(postcodes)
    written: int = batch.to_csv("/tmp/report.csv", keys={"postcode": postcodes}, threads=2)
    return {"ids": ids.tolist(), "metres": metres.tolist(), "problems": problems,
            "rows": len(looked) + written, "data": batch.to_dict()}


def where(index: hl.Index, lat: float, lon: float) -> str:
    hits: hl.Reverse = index.reverse(lat, lon, k=1)
    record: hl.Postcode = index.lookup(hits[0].postcode)
    east: Optional[float] = record.eastings_m
    return f"{record.postcode} {record.country} {east}"


def about(index: hl.Index) -> List[str]:
    info: hl.IndexInfo = index.info()
    names: List[str] = [t.name for t in info.treatments]
    sites: List[hl.Site] = index.sites()
    return names + [s.id for s in sites] + [info.checksum]


def shipped(index: hl.Index) -> hl.Index:
    copy: hl.Index = pickle.loads(pickle.dumps(index))
    return copy


def refused(index: hl.Index) -> str:
    try:
        index.nearest("SWIA 1AA")
    except hl.InvalidPostcode as e:
        code: str = e.code
        return code
    except hl.Error:
        raise
    return ""


def frames(index: hl.Index, df: Any) -> Any:
    sites = index.sites_frame()
    answer = hl.nearest_frame(index, df, "postcode", k=2, max_km=80.0, threads=1)
    return answer, sites


def mistakes(index: hl.Index) -> None:
    k: str = index.nearest("CH4 7QP")[0].rank  # MISTAKE: an int is not a str
    index.nearest(postcode=7)  # MISTAKE: a postcode is text
