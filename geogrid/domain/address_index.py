"""Address matching (地址匹配): a typed address to standard addresses and buildings.

Every stored address is parsed once into integer-coded components. A query is
parsed the same way; its estate and road names are looked up exactly, as a
variant (巷≈弄, 街≈路) or fuzzily (rapidfuzz), and the rows under those names are
scored in bulk with numpy. A conflict (3号楼 asked, 5号楼 stored) costs much more
than a component left out, and fuzzy names are never enough to be confident.
Unparsed text is a component too, so the same normalised text (admin prefix
aside) always scores 1.0.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Self

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geogrid.domain.addresses import (
    AddressParts,
    estate_key,
    normalize_address,
    normalize_many,
    parse_building,
    parse_fields,
    parse_normalized,
    road_variant,
    split_admin,
)

THRESHOLD = 0.8  # a confident answer scores at least this …
MARGIN = 0.08  # … and this much more than the next different target
_VARIANT = 0.9  # 巷 for 弄, 街 for 路, an estate name typed where a road was expected
_FUZZY = 0.75  # fuzzy names are scaled below THRESHOLD: never confident on their own
_SCAN = 0.75  # a known name found inside text the parser could not place
MAX_QUERY = 128  # addresses are short; longer input is cut, not scanned
_FALLBACK = 500  # buildings tried when a query names no estate or road
# Factors for a component (left out of the query, missing from the stored row,
# conflicting). Leaving out the estate keeps a bare 3号楼 below THRESHOLD.
_PENALTY = {
    "estate": (0.8, 0.5, 0.2),
    "road": (0.97, 0.95, 0.4),
    "number": (0.9, 0.9, 0.3),
    "building": (0.85, 0.6, 0.2),
    "unit": (0.9, 0.7, 0.3),
    "room": (0.9, 0.6, 0.2),
    "rest": (0.95, 0.9, 0.9),  # unparsed text: 门面, 东门, 2楼
}
_ADMIN_CLASS = {"province": 0, "city": 1, "county": 1, "town": 2, "village": 3}
_ADMIN_PENALTY = (0.3, 0.4, 0.6, 0.85)  # another province is worse than another 社区
_ADMIN_SUFFIX = re.compile(
    r"(?:自治[区州县旗]|特别行政区|地区|街道(?:办事处)?|社区\w*|居委会|村\w*|[省市盟旗县区镇乡])$"
)
_NAME_RUN = re.compile(r"[^\W\d_]{2,}")
_EMPTY = np.zeros(0, dtype=np.int64)
FIELDS = ("road", "number", "estate", "building", "unit", "room")
_PARSED = ("admin", *FIELDS, "rest")  # the order of parse_fields
_PLACE = ("road", "number", "estate", "building")  # what names a building
_CHUNK = 20_000  # addresses normalised at once; bounds the transient strings


@dataclass(frozen=True)
class Candidate:
    """One possible answer (候选结果): a standard address or a building."""

    kind: Literal["address", "building"]
    code: str  # address code or building code
    text: str  # the stored standard address or the building's display name
    score: float  # 0..1
    matched: tuple[str, ...]  # components that agree, e.g. ("estate", "building")
    building: str | None = None  # the building it is in (stored link), or itself


@dataclass(frozen=True)
class AddressMatch:
    """The answer to one query (匹配结果), best candidate first."""

    query: str
    parts: AddressParts
    candidates: tuple[Candidate, ...]
    is_confident: bool  # the best is above THRESHOLD and MARGIN clear of the next


@dataclass(frozen=True)
class Texts:
    """Many short strings in one UTF-8 buffer with offsets (文本列).

    A city's million address codes and texts as Python strings took about
    180 MB and a pointer chase each; here they take their bytes (10 and 45 MB)
    and are only decoded for the few candidates an answer shows.

    Examples:
        >>> texts = Texts.of(["A1", "东大街25号"])
        >>> len(texts), texts[1]
        (2, '东大街25号')
        >>> Texts.concat([texts, Texts.of(["B"])])[2]
        'B'
    """

    data: np.ndarray  # uint8
    offsets: np.ndarray  # int64, one more than there are strings

    @classmethod
    def of(cls, values: Iterable[str]) -> Self:
        """The strings, in order."""
        encoded = [v.encode() for v in values]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        data = np.frombuffer(b"".join(encoded), np.uint8)
        return cls(data, np.concatenate(([0], np.cumsum(lengths))))

    @classmethod
    def concat(cls, parts: Sequence["Texts"]) -> Self:
        """One column of the parts, in order (the chunks of a build)."""
        starts = np.cumsum([0] + [len(p.data) for p in parts[:-1]])
        offsets = [parts[0].offsets[:1]] if parts else [np.zeros(1, np.int64)]
        offsets += [
            p.offsets[1:] + start for p, start in zip(parts, starts, strict=True)
        ]
        data = [p.data for p in parts] or [np.zeros(0, np.uint8)]
        return cls(np.concatenate(data), np.concatenate(offsets))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes().decode()


@dataclass(frozen=True)
class _Table:
    """Addresses or buildings: codes, texts and integer-coded components."""

    kind: Literal["address", "building"]
    code: Texts
    text: Texts
    col: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Query:
    """A parsed query: component codes (0 absent, -1 unknown) and resolved names."""

    parts: AddressParts
    code: dict[str, int]
    hits: dict[str, dict[int, float]]  # estate/road code -> similarity
    admin: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class _Groups:
    """Row ids grouped by an integer code (CSR): ``get(code)`` is one slice."""

    offsets: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, size: int) -> Self:
        offsets = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=size))))
        return cls(offsets, np.argsort(codes, kind="stable"))

    def get(self, code: int) -> np.ndarray:
        if 0 < code < len(self.offsets) - 1:
            return self.rows[self.offsets[code] : self.offsets[code + 1]]
        return _EMPTY


def _union(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sorted union of row-id groups.

    One group is returned as it is (a :class:`_Groups` slice is sorted and
    unique): sorting it again cost 5 ms a query where one 小区 name covers
    100,000 addresses (城市花园1区 … 城市花园2500区 share their key).
    """
    nonempty = [p for p in parts if len(p)]
    if len(nonempty) == 1:
        return nonempty[0]
    return np.unique(np.concatenate([*nonempty, _EMPTY]))


def _encode(values: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
    """Integer codes of ``values``, growing ``vocab``; "" is always 0."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    known = np.fromiter((vocab.setdefault(v, len(vocab)) for v in uniques), np.int32)
    return known[codes] if len(codes) else np.zeros(0, np.int32)


def _factor(
    stored: np.ndarray, field: str, q: int, hits: dict[int, float]
) -> np.ndarray:
    """Per row: 1 when the component agrees, else the penalty for how it differs."""
    left_out, missing, conflict = _PENALTY[field]
    if not q and not hits:
        return np.where(stored == 0, 1.0, left_out)
    f = np.where(stored == q, 1.0, np.where(stored == 0, missing, conflict))
    for code, sim in hits.items():
        f[stored == code] = sim
    return f


class AddressIndex:
    """Standard addresses and buildings ready for matching (地址匹配索引).

    Build it with :meth:`build`; :meth:`match` never raises on any string.
    """

    def __init__(
        self,
        a: _Table,
        b: _Table,
        vocab: dict[str, dict[str, int]],
        links: np.ndarray,
    ) -> None:
        self.a, self.b, self.vocab = a, b, vocab
        self.a_link = links  # stored building_code as a building position, or -1
        self.a_bld = self._link(links.copy())
        self.b_count = np.bincount(self.a_bld[self.a_bld >= 0], minlength=len(b.code))
        size = {f: len(v) for f, v in vocab.items()}
        self.names = {k: list(vocab[k]) for k in ("estate", "road")}
        self.a_by = {k: _Groups.of(a.col[k], size[k]) for k in ("estate", "road")}
        self.b_by = {
            k: _Groups.of(b.col[k], size[k]) for k in ("estate", "road", "building")
        }
        self.in_bld = _Groups.of(self.a_bld + 1, len(b.code) + 1)
        self.variants: dict[str, list[int]] = {}
        for name, code in vocab["road"].items():
            self.variants.setdefault(road_variant(name), []).append(code)
        self.admin_tokens = [
            tuple(
                (_ADMIN_CLASS[lv], n, _ADMIN_SUFFIX.sub("", n))
                for lv, n in split_admin(s)
            )
            for s in vocab["admin"]
        ]
        self.admin_words = {
            w for t in self.admin_tokens for _, n, s in t for w in (n, s) if len(w) >= 2
        }
        self.max_name = min(
            16, max(map(len, (*self.names["estate"], *self.names["road"])))
        )

    @classmethod
    def build(
        cls,
        addresses: pd.DataFrame | Iterable[pd.DataFrame],
        buildings: pd.DataFrame,
    ) -> Self:
        """Parse and index stored addresses and buildings (建立地址索引).

        Args:
            addresses: columns code, text (standard address) and optionally
                building_code (empty or None when unknown); or such frames
                one chunk at a time, so a city's million rows never sit in
                memory as Python strings all at once.
            buildings: columns code, name, number, estate (may be empty).

        Returns:
            The index.
        """
        vocab: dict[str, dict[str, int]] = {f: {"": 0} for f in _PARSED}
        b_codes = _codes(buildings)
        position = {c: i for i, c in enumerate(b_codes)}
        chunks: dict[str, list[np.ndarray]] = {
            f: [np.zeros(0, np.int32)] for f in (*_PARSED, "link")
        }
        codes: list[Texts] = []
        texts: list[Texts] = []
        frames = [addresses] if isinstance(addresses, pd.DataFrame) else addresses
        for frame in frames:
            for start in range(0, len(frame), _CHUNK):
                part = frame.iloc[start : start + _CHUNK]
                text = part["text"].to_numpy(dtype=object, na_value="").tolist()
                parsed = [parse_fields(n) for n in normalize_many(text)]
                for f, values in zip(_PARSED, zip(*parsed, strict=True), strict=True):
                    keys = map(estate_key, values) if f == "estate" else values
                    chunks[f].append(_encode(list(keys), vocab[f]))
                links = part.get("building_code", pd.Series("", index=part.index))
                chunks["link"].append(
                    np.fromiter(
                        (position.get(c, -1) for c in links.tolist()),
                        np.int32,
                        len(part),
                    )
                )
                codes.append(Texts.of(_codes(part)))
                texts.append(Texts.of(text))
        a_col = {f: np.concatenate(c) for f, c in chunks.items()}
        links = a_col.pop("link")
        a = _Table("address", Texts.concat(codes), Texts.concat(texts), a_col)

        frame = buildings.reindex(columns=["name", "number", "estate"])
        columns = (frame[c].to_numpy(dtype=object, na_value="").tolist() for c in frame)
        parts = [
            parse_building(*t) for t in zip(*map(normalize_many, columns), strict=False)
        ]
        b_col = {f: _encode([getattr(p, f) for p in parts], vocab[f]) for f in _PLACE}
        b_col["admin"] = np.zeros(len(parts), np.int32)
        b_text = Texts.of(frame["name"].to_numpy(dtype=object, na_value="").tolist())
        b = _Table("building", Texts.of(b_codes), b_text, b_col)
        _merge_split_estates(a_col, b_col["estate"], vocab)
        return cls(a, b, vocab, links)

    def _link(self, bld: np.ndarray) -> np.ndarray:
        """Each address's building: its stored link, else by equal components."""
        a, b = self.a.col, self.b.col
        # A building's name rarely carries its road, door or admin; its first
        # address does.
        linked = np.flatnonzero(bld >= 0)
        b_ids, first = np.unique(bld[linked], return_index=True)
        for f in (*_PLACE, "admin"):
            own = b[f][b_ids]
            b[f][b_ids] = np.where(own == 0, a[f][linked[first]], own)
        keys: dict[tuple[int, ...], int] = {}
        for i, key in enumerate(zip(*(b[f].tolist() for f in _PLACE), strict=True)):
            keys[key] = -1 if key in keys else i  # two buildings alike: link neither
        for row in np.flatnonzero(bld < 0):
            bld[row] = keys.get(tuple(int(a[f][row]) for f in _PLACE), -1)
        return bld

    def match(self, text: str, *, limit: int = 5) -> AddressMatch:
        """Find the standard address or building meant by ``text`` (地址匹配).

        Args:
            text: an address as typed, in any of the common forms.
            limit: how many candidates to return at most.

        Returns:
            The parsed query, candidates best first, and whether the best is
            clearly right. Never raises on any string.
        """
        query = text if isinstance(text, str) else ""
        norm = normalize_address(query[:MAX_QUERY])
        parts = parse_normalized(norm)
        if not norm or limit < 1:
            return AddressMatch(query, parts, (), is_confident=False)
        body = norm[len(parts.admin) :]
        if parts.road and self._code(joined := parts.road + parts.estate, "estate"):
            parts = replace(parts, road="", estate=joined)  # 金街新花园 is one estate
        q = _Query(
            parts,
            {
                f: self.vocab[f].get(v, -1) if (v := getattr(parts, f)) else 0
                for f in ("number", "building", "unit", "room", "rest")
            },
            self._resolve(parts, body),
            tuple((_ADMIN_CLASS[lv], n) for lv, n in split_admin(parts.admin)),
        )
        a_rows, b_ids = self._retrieve(q)
        a_score = self._score(self.a, a_rows, q)
        b_score = self._score(self.b, b_ids, q) * self._verified(q, a_rows, b_ids)
        # Rounded, so an address ties with its own building and, listed first,
        # wins: it says more.
        ranked = sorted(
            [(-round(float(a_score[i]), 6), 0, int(i)) for i in _top(a_score, limit)]
            + [(-round(float(b_score[i]), 6), 1, int(i)) for i in _top(b_score, limit)]
        )[:limit]
        candidates = tuple(
            self._candidate(
                self.b if k else self.a, int((b_ids if k else a_rows)[i]), -s, q
            )
            for s, k, i in ranked
        )
        found = (a_rows, b_ids, a_score, b_score)
        confident = bool(ranked) and self._clear(ranked[0], found)
        return AddressMatch(query, parts, candidates, confident)

    def _code(self, name: str, kind: str) -> int:
        return self.vocab[kind].get(estate_key(name) if kind == "estate" else name, 0)

    def _resolve(self, parts: AddressParts, body: str) -> dict[str, dict[int, float]]:
        """Known estates and roads the query names, with how sure each is."""
        hits: dict[str, dict[int, float]] = {"estate": {}, "road": {}}
        for kind in ("estate", "road"):
            if name := getattr(parts, kind):
                self._resolve_name(name, kind, hits)
        if (
            max((*hits["estate"].values(), *hits["road"].values()), default=0)
            < _VARIANT
        ):
            self._scan(body, hits)
        return hits

    def _resolve_name(
        self, name: str, kind: str, hits: dict[str, dict[int, float]]
    ) -> None:
        other = "road" if kind == "estate" else "estate"
        for candidate in self._strip_admin(name):
            if code := self._code(candidate, kind):
                _put(hits[kind], code, 1.0)
                return
            if code := self._code(candidate, other):
                _put(hits[other], code, _VARIANT)
                return
            near = (
                self.variants.get(road_variant(candidate), []) if kind == "road" else []
            )
            for code in near:
                _put(hits[kind], code, _VARIANT)
            if near:
                return
        key = estate_key(name) if kind == "estate" else name
        if len(key) >= 2:
            found = process.extract(
                key, self.names[kind], scorer=fuzz.ratio, limit=3, score_cutoff=60
            )
            for _, score, code in found:
                if code:
                    _put(hits[kind], code, _FUZZY * score / 100)

    def _strip_admin(self, name: str) -> list[str]:
        """The name, and without an admin word the index knows (城关幸福里 → 幸福里)."""
        sizes = range(min(8, len(name) - 2), 1, -1)
        size = next((n for n in sizes if name[:n] in self.admin_words), 0)
        return [name, name[size:]] if size else [name]

    def _scan(self, body: str, hits: dict[str, dict[int, float]]) -> None:
        """Find known names, longest first, inside text the parser could not place."""
        for run in _NAME_RUN.findall(body):
            i = 0
            while i < len(run) - 1:
                for size in range(min(len(run) - i, self.max_name), 1, -1):
                    piece = run[i : i + size]
                    found = {k: self._code(piece, k) for k in ("estate", "road")}
                    for kind, code in found.items():
                        if code:
                            _put(hits[kind], code, _SCAN)
                    if any(found.values()):
                        i += size
                        break
                else:
                    i += 1

    def _retrieve(self, q: _Query) -> tuple[np.ndarray, np.ndarray]:
        """Address rows and buildings under the names the query gave."""
        a_parts = [self.a_by[k].get(c) for k in ("estate", "road") for c in q.hits[k]]
        b_parts = [self.b_by[k].get(c) for k in ("estate", "road") for c in q.hits[k]]
        if not a_parts and q.code["building"] > 0:
            # No place named: every building with this number, none confidently.
            fallback = self.b_by["building"].get(q.code["building"])[:_FALLBACK]
            b_parts.append(fallback)
            a_parts += [self.in_bld.get(int(b) + 1) for b in fallback]
        return _union(a_parts), _union(b_parts)

    def _score(self, table: _Table, ids: np.ndarray, q: _Query) -> np.ndarray:
        col = {f: c[ids] for f, c in table.col.items()}
        f = self._admin_factor(q, col["admin"])
        for field in ("estate", "road"):
            asked = getattr(q.parts, field) or q.hits[field]
            f *= _factor(col[field], field, -1 if asked else 0, q.hits[field])
        for field in ("number", "building", "unit", "room", "rest"):
            if field in col:
                f *= _factor(col[field], field, q.code[field], {})
        if "rest" not in col and q.code["rest"]:
            f *= _PENALTY["rest"][1]  # a building has no note to agree with
        if not q.code["number"]:
            # The door number of a compound is seldom typed once its estate is.
            f *= np.where((col["number"] != 0) & (col["estate"] != 0), 0.98 / 0.9, 1.0)
        return f

    def _admin_factor(self, q: _Query, codes: np.ndarray) -> np.ndarray:
        """Per row: the cost of admin names in the query that the row contradicts."""
        if not q.admin or not len(codes):
            return np.ones(len(codes))
        uniq, inverse = np.unique(codes, return_inverse=True)
        factors = np.ones(len(uniq))
        for i, code in enumerate(uniq):
            for cls, name in q.admin:
                same = [(n, s) for c, n, s in self.admin_tokens[code] if c == cls]
                # 平凉安和县 still names 安和县: a known stem inside counts.
                if same and not any(
                    name == n or (len(s) > 1 and s in name) for n, s in same
                ):
                    factors[i] *= _ADMIN_PENALTY[cls]
        return factors[inverse]

    def _verified(self, q: _Query, a_rows: np.ndarray, b_ids: np.ndarray) -> np.ndarray:
        """Per building: 1 if one of its addresses has the asked unit and room."""
        if not q.code["unit"] and not q.code["room"]:
            return np.ones(len(b_ids))
        ok = np.ones(len(a_rows), dtype=bool)
        for field in ("unit", "room"):
            if q.code[field]:
                ok &= self.a.col[field][a_rows] == q.code[field]
        hit = np.isin(b_ids, self.a_bld[a_rows[ok]])
        return np.where(hit, 1.0, np.where(self.b_count[b_ids] > 0, 0.3, 0.85))

    def _candidate(self, table: _Table, idx: int, score: float, q: _Query) -> Candidate:
        matched = tuple(
            f
            for f in FIELDS
            if f in table.col
            and (v := int(table.col[f][idx]))
            and (q.hits[f].get(v, 0) >= _VARIANT if f in q.hits else v == q.code[f])
        )
        code, text = table.code[idx], table.text[idx]
        if table is self.b:
            building: str | None = code
        else:
            link = int(self.a_link[idx])
            building = self.b.code[link] if link >= 0 else None
        return Candidate(table.kind, code, text, round(score, 4), matched, building)

    def _clear(
        self, best: tuple[float, int, int], found: tuple[np.ndarray, ...]
    ) -> bool:
        """Best above THRESHOLD and MARGIN above the best *different* target.

        An address and the building it is in name the same place, so neither
        counts against the other.
        """
        a_rows, b_ids, a_score, b_score = found
        neg, kind, i = best
        bld = b_ids[i] if kind else self.a_bld[a_rows[i]]
        other_a = self.a_bld[a_rows] != bld if kind else np.arange(len(a_rows)) != i
        second = max(
            a_score[other_a].max(initial=0), b_score[b_ids != bld].max(initial=0)
        )
        return bool(-neg >= THRESHOLD and -neg - second >= MARGIN)


def _merge_split_estates(
    a: dict[str, np.ndarray], known: np.ndarray, vocab: dict[str, dict[str, int]]
) -> None:
    """Road 金街 + estate 新花园 become estate 金街新花园 where a building names it."""
    roads, estates = list(vocab["road"]), list(vocab["estate"])
    known_codes = set(known.tolist()) - {0}
    both = (a["road"] > 0) & (a["estate"] > 0)
    pairs = set(zip(a["road"][both].tolist(), a["estate"][both].tolist(), strict=True))
    for r, e in pairs:
        code = vocab["estate"].get(estate_key(roads[r] + estates[e]), 0)
        if code in known_codes:
            rows = both & (a["road"] == r) & (a["estate"] == e)
            a["road"][rows], a["estate"][rows] = 0, code


def _codes(frame: pd.DataFrame) -> list[str]:
    return frame["code"].astype(str).tolist()


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores, best first."""
    if len(scores) > 4 * k:
        part = np.argpartition(-scores, k)[:k]
        return part[np.lexsort((part, -scores[part]))]
    return np.argsort(-scores, kind="stable")[:k]


def _put(hits: dict[int, float], code: int, sim: float) -> None:
    hits[code] = max(hits.get(code, 0.0), sim)
