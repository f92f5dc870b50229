"""Chinese address normalisation and parsing (地址标准化与解析); pure functions.

A typed address ("天和人家三幢二单元301", "安和县东关巷十二号") is first brought to
one spelling by :func:`normalize_address` and then split into its components
(地址要素) by :func:`parse_address`. Matching against stored addresses lives in
:mod:`geogrid.domain.address_index`.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class AddressParts:
    """Components of a Chinese address (地址要素)."""

    admin: str = ""  # the stripped 省/市/县/区/街道/镇/乡/社区/村 prefix, as written
    road: str = ""  # 路/街/巷/弄/道/胡同 name, e.g. 东关巷
    number: str = ""  # 门牌号 digits, e.g. "12" from 12号
    estate: str = ""  # 小区/院/苑/花园/家园/公寓/大厦/家属院… name
    building: str = ""  # 楼栋号, e.g. "3" from 3号楼/3幢/3栋/3座, "A" from A座
    unit: str = ""  # 单元 digits
    room: str = ""  # 室/户 digits, e.g. "301"
    rest: str = ""  # whatever could not be placed


_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MULTIPLIER = {"十": 10, "百": 100, "千": 1000}
_CN = "零〇○一二两三四五六七八九十百千"
_TRADITIONAL = ("號樓棟單層區縣鄉鎮", "号楼栋单层区县乡镇")
# What a letter is after NFKC and upper-casing, spelled out: Python's
# [^\W\d_] has no JavaScript twin, and the residents' page runs these rules.
_LETTER = r"A-Z\u00C0-\u024F\u0370-\u03FF\u3005-\u3007\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"


@dataclass(frozen=True, slots=True)
class Rewrite:
    r"""One normalisation rule: replace ``pattern`` wherever it matches.

    Patterns are written in the syntax Python's ``re`` and JavaScript's
    ``RegExp`` (flags ``gu``) read alike — ``[0-9]`` not ``\d``, no
    possessive quantifiers, letters spelled out — because the same list
    runs in the browser (:func:`normalizer_rules`): one set of rules for the
    lookups and the residents' map search.
    """

    pattern: str
    replacement: str  # groups as \1; "" deletes
    when: str = ""  # run only when one of these characters occurs ("": always)
    numeral: bool = False  # replace with the matched Chinese numeral's digits


_NORMALIZE = (
    Rewrite(
        r"[\u2010-\u2015\u2212\u2500~]",
        "-",
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500~",
    ),
    Rewrite(r"[^\S\n]+", " "),
    Rewrite(r"(?<=[0-9]) (?=[0-9])", "-", " "),  # 3 2 301 is 3-2-301
    Rewrite(" ", "", " "),
    # Numerals only become digits in front of a marker, so 三里屯, 五一路 and
    # 十里铺 stay names; 弄/巷 count as a marker only when a door number (…号)
    # follows. The numeral is never cut short: the lookahead after a room
    # refuses another numeral, as a possessive run would.
    Rewrite(
        rf"(?<![{_CN}])[{_CN}]+(?=号|幢|栋|座|#|单元|室|层|楼|户|[弄巷][0-9{_CN}]+号)"
        rf"|(?<=单元|号楼)[{_CN}]+(?![{_LETTER}{_CN}])",  # the room: 二单元三零一
        "",
        _CN,
        numeral=True,
    ),
    # 第三层 and 第3层 alike (the old trigger, a Chinese numeral, missed 第3层).
    Rewrite(r"第(?=[0-9]+(?:号|单元|层|楼|室))", "", "第"),
    Rewrite(
        r"(?<![0-9])([0-9]+|(?<![A-Z])[A-Z])(?:号?[幢栋座]|#楼?)", r"\1号楼", "幢栋座#"
    ),
    Rewrite(r"(?<![0-9])([0-9]+)(?:户|号房|房)", r"\1室", "户房"),
    # Dashed forms: 3-2-301 (楼-单元-室), 3号楼2-301, 1号1-101 and 幸福里3-301.
    Rewrite(
        r"(?<![0-9-])([0-9]+)-([0-9]+)-([0-9]+)(?![0-9-])(?:室|号(?!楼))?",
        r"\1号楼\2单元\3室",
        "-",
    ),
    Rewrite(
        r"(?<=号楼)([0-9]+)-([0-9]+)(?![0-9-])(?:室|号(?!楼))?", r"\1单元\2室", "-"
    ),
    Rewrite(r"(?<=号)([0-9]+)-([0-9]+)(?![0-9-])(?:室|号(?!楼))?", r"\1单元\2室", "-"),
    Rewrite(
        rf"(?<=[{_LETTER}])([0-9]+)-([0-9]+)(?![0-9\-号])(?:室)?", r"\1号楼\2室", "-"
    ),
    # A dash left between two digits is a sub-number (2-4号) and is kept.
    Rewrite(r"-(?![0-9])|(?<![0-9])-", "", "-"),
    Rewrite(
        r"""[,.，。、；;：:()（）\[\]【】{}〔〕<>《》“”"'‘’`!！?？·…|/\\#*&^%$@_=+]""",
        "",
    ),
)
_COMPILED = tuple((re.compile(r.pattern), r) for r in _NORMALIZE)
_TRADITIONAL_TABLE = str.maketrans(*_TRADITIONAL)


def _cn_to_digits(numeral: str) -> str:
    """Chinese numeral (中文数字) to Arabic digits: 十二 → 12, 二〇一 → 201."""
    if not any(c in _MULTIPLIER for c in numeral):
        return "".join(str(_DIGIT[c]) for c in numeral)
    total = current = 0
    for c in numeral:
        if c in _DIGIT:
            current = _DIGIT[c]
        else:
            total += (current or 1) * _MULTIPLIER[c]
            current = 0
    return str(total + current)


def _numeral(match: re.Match[str]) -> str:
    return _cn_to_digits(match.group())


def _normalize_block(text: str) -> str:
    """Normalise one or more addresses separated by newlines; no rule crosses one."""
    # Each rule runs only when its trigger characters occur: stored standard
    # addresses rarely need any, and a pass over a million of them is not free.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.upper()
    if _has(text, _TRADITIONAL[0]):
        text = text.translate(_TRADITIONAL_TABLE)
    for pattern, rule in _COMPILED:
        if not rule.when or _has(text, rule.when):
            text = pattern.sub(_numeral if rule.numeral else rule.replacement, text)
    return text


def _has(text: str, chars: str) -> bool:
    return any(c in text for c in chars)


def normalizer_rules() -> dict[str, object]:
    """The normalisation rules as data, for the browser's copy of the engine.

    ``geogrid.js`` applies NFKC, upper-casing, ``traditional`` and then each
    step in order, exactly as :func:`normalize_address` does here.
    """
    return {
        "traditional": list(_TRADITIONAL),
        "digits": _DIGIT,
        "multipliers": _MULTIPLIER,
        "steps": [
            {
                "pattern": r.pattern,
                "replacement": re.sub(r"\\(\d)", r"$\1", r.replacement),
                "when": r.when,
                "numeral": r.numeral,
            }
            for r in _NORMALIZE
        ],
    }


def normalize_address(text: str) -> str:
    """Normalise a Chinese address (地址标准化).

    Full-width characters become half-width, spaces and punctuation go, 幢/栋/座/#
    become 号楼, 户/房 become 室, dashed forms (3-2-301) get their markers, and
    Chinese numerals become digits where they count something (三号楼, 十二号),
    never inside a name (三里屯, 五一路).

    Args:
        text: the address as typed.

    Returns:
        The normalised address; the same text normalised twice does not change.

    Examples:
        >>> normalize_address("天和人家 三幢 二单元 301")
        '天和人家3号楼2单元301'
        >>> normalize_address("安和县东关巷十二号")
        '安和县东关巷12号'
        >>> normalize_address("五一路１０８号（东门）")
        '五一路108号东门'
        >>> normalize_address("幸福里3-2-301")
        '幸福里3号楼2单元301室'
    """
    return _normalize_block(text.replace("\n", " "))


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise many addresses at once (批量标准化), as :func:`normalize_address`.

    One pass of each rule over all texts joined together is much faster than
    one call per address.

    Args:
        texts: addresses as typed; None counts as "".

    Returns:
        The normalised addresses, in order.
    """
    cleaned = [t.replace("\n", " ") if isinstance(t, str) else "" for t in texts]
    if not cleaned:
        return []
    return _normalize_block("\n".join(cleaned)).split("\n")


# An admin name never spans another level's word: 文昌社区羊市弄 is no 市.
_NAME = r"(?:(?!社区|街道|小区)[^\W\d_])"
_NOT_STREET = r"(?![场巷街路口弄道])"
_ADMIN_LEVELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern))
    for level, pattern in (
        ("province", rf"{_NAME}{{2,7}}?(?:特别行政区|自治区|省)"),
        ("city", rf"{_NAME}{{1,8}}?(?:自治州|地区|盟|(?<!超)市{_NOT_STREET})"),
        (
            "county",
            (
                rf"{_NAME}{{1,8}}?(?:自治县|自治旗|旗|(?<!超)市{_NOT_STREET}"
                rf"|县{_NOT_STREET}|(?<![社小校厂景营园])区{_NOT_STREET})"
            ),
        ),
        (
            "town",
            rf"{_NAME}{{1,8}}?(?:街道办事处|街道|镇{_NOT_STREET}|乡{_NOT_STREET})",
        ),
        (
            "village",
            (
                rf"{_NAME}{{1,8}}?(?:社区居委会|社区居民委员会|社区|居委会|村委会"
                r"|村民委员会|村(?=\d+组|委))"
            ),
        ),
    )
)
_ROAD_SUFFIX = ("胡同", "路", "街", "巷", "弄", "道")
_ESTATE_SUFFIX = re.compile(
    r"(?:小区|花园|家园|公寓|大厦|家属[院楼]|宿舍|广场|中心|人家|新村|山庄|公馆|大楼|国际"
    r"|[院苑园庭府居城里湾邸轩阁坊墅郡汇])$"
)
_TOKEN = re.compile(
    r"(\d+(?:-\d+)*|(?<![A-Z])[A-Z](?=号楼|单元))(号楼|号院|号|单元|室|层|楼|弄|巷)?"
)
_TAIL = re.compile(r"(?<!\d)(?:(\d{1,9})单元)?(?:(\d{1,9})室)?$")
_TAIL_CHARS = 21  # the longest tail: 9 digits, 单元, 9 digits, 室


def split_admin(text: str) -> tuple[tuple[str, str], ...]:
    """Split the administrative prefix (行政区划前缀) off the start of ``text``.

    Args:
        text: a normalised address.

    Returns:
        (level, name) pairs in order, level one of province, city, county, town,
        village; their names joined are the start of ``text``.

    Examples:
        >>> split_admin("甘肃省平凉市安和县城关街道东街社区东关巷1号")[-1]
        ('village', '东街社区')
        >>> split_admin("米市巷3号")
        ()
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    for level, pattern in _ADMIN_LEVELS:
        m = pattern.match(text, pos)
        # A county-level city may follow its prefecture city (酒泉市玉门市).
        while m:
            tokens.append((level, m.group()))
            pos = m.end()
            m = pattern.match(text, pos) if level == "county" else None
    return tuple(tokens)


def _split_place(name: str) -> tuple[str, str]:
    """Split a name into (road, estate): 人民路幸福里小区 → (人民路, 幸福里小区)."""
    if name.endswith(_ROAD_SUFFIX):
        return name, ""
    m = re.match(r"(.+?(?:胡同|路|街|巷|弄|道))(.{2,})$", name)
    # Only when the estate has a name before its suffix: 金街花园 stays whole.
    if m and (suffix := _ESTATE_SUFFIX.search(m.group(2))) and suffix.start():
        return m.group(1), m.group(2)
    return "", name


def _int_text(digits: str) -> str:
    """Drop leading zeros (01单元 is 1单元) but keep a lone 0 and letters."""
    return digits.lstrip("0") or ("0" if digits else "")


def _parse_body(body: str) -> tuple[str, ...]:
    """Parse what follows the admin prefix, one numbered token at a time.

    Returns:
        road, number, estate, building, unit, room, rest.
    """
    road = number = estate = building = unit = room = ""
    rest: list[str] = []
    end = 0
    for m in _TOKEN.finditer(body):
        name, num, mark = body[end : m.start()], _int_text(m.group(1)), m.group(2)
        end = m.end()
        named_road = ""
        if name:
            named_road, named_estate = _split_place(name)
            if named_road and not road and not estate:
                road = named_road
            elif named_road:
                rest.append(named_road)
            if named_estate and not estate:
                estate = named_estate
            elif named_estate:
                rest.append(named_estate)
        if mark in ("弄", "巷") and road and not number:
            road += num + mark  # 人民路100弄 names a lane of its own
        elif mark == "号楼" and not building:
            building = num
        elif mark == "单元" and not unit:
            unit = num
        elif mark == "室" and not room:
            room = num
        elif mark in ("号", "号院", None):
            if unit or building:
                room = room or num
            elif named_road and road == named_road and not number:
                number = num
            elif estate and (mark or len(num) < 3):
                building = num  # 幸福里小区3号 is a building, not a door
            elif estate:
                room = num
            elif road and not number:
                number = num
            elif number:
                room = room or num
            else:
                rest.append(num + (mark or ""))
        else:
            rest.append(num + (mark or ""))
    leftover = body[end:]
    if leftover and end == 0:
        road, estate = _split_place(leftover)  # a bare name: 东关巷, 幸福里小区
    elif leftover:
        rest.append(leftover)  # a note after the numbers: 东门, 2楼, 旁边
    return road, number, estate, building, unit, room, "".join(rest)


@lru_cache(maxsize=65536)
def _parse_head(head: str) -> tuple[str, ...]:
    admin = "".join(name for _, name in split_admin(head))
    return admin, *_parse_body(head[len(admin) :])


def parse_fields(text: str) -> tuple[str, ...]:
    """Components of a normalised address as a tuple in :class:`AddressParts` order.

    The bulk form of :func:`parse_normalized`, for indexing many addresses.

    Args:
        text: output of :func:`normalize_address`.

    Returns:
        admin, road, number, estate, building, unit, room, rest.
    """
    # Split off 单元/室 first so the cache holds one entry per building, not per
    # flat; the admin prefix holds no digits, so the tail never reaches into it.
    tail = _TAIL.search(text, max(0, len(text) - _TAIL_CHARS))
    if tail and (tail.group(1) or tail.group(2)):
        fields = _parse_head(text[: tail.start()])
        unit, room = _int_text(tail.group(1) or ""), _int_text(tail.group(2) or "")
        return (*fields[:5], unit or fields[5], room or fields[6], fields[7])
    return _parse_head(text)


def parse_normalized(text: str) -> AddressParts:
    """Parse an already normalised address (解析已标准化地址); see :func:`parse_address`.

    Args:
        text: output of :func:`normalize_address`.

    Returns:
        The components.
    """
    return AddressParts(*parse_fields(text))


def estate_key(name: str) -> str:
    """Estate lookup key (小区名称键): 幸福里小区 and 幸福里 are one estate."""
    return name[:-2] if name.endswith("小区") and len(name) > 3 else name


def road_variant(name: str) -> str:
    """Road variant key (路名近似键): 东关弄 ≈ 东关巷, 人民街 ≈ 人民路."""
    if name.endswith("弄"):
        return name[:-1] + "巷"
    return name[:-1] + "街" if name.endswith("路") else name


def parse_building(name: str, number: str, estate: str) -> AddressParts:
    """Parse a building record (楼栋解析) from its normalised name, number and estate.

    ``number`` is 3号楼 for a block in an estate and 12号 for a house on a road.

    Examples:
        >>> p = parse_building("幸福里3号楼", "3号楼", "幸福里小区")
        >>> p.estate, p.building
        ('幸福里', '3')
        >>> parse_building("东大街25号", "25号", "").number
        '25'
    """
    p = parse_normalized(name)
    block = number.removesuffix("号楼") if number.endswith("号楼") else ""
    door = number.removesuffix("号") if number.endswith("号") and not block else ""
    return AddressParts(
        road=p.road,
        number=p.number or _int_text(door),
        estate=estate_key(estate or p.estate),
        building=p.building or _int_text(block),
    )


def parse_address(text: str) -> AddressParts:
    """Parse a Chinese address into its components (地址解析).

    The text is normalised first. Administrative names (…省, …市, …县, …区,
    …街道, …镇, …乡, …社区, …村委会) are taken off the start; then come the road
    and door number (东关巷12号), the estate (小区) and its building (3号楼, A座),
    the unit (2单元) and the room (301室, or a bare 301 after a unit).

    Args:
        text: the address as typed.

    Returns:
        The components; what fits nowhere is in ``rest``.

    Examples:
        >>> p = parse_address("甘肃省平凉市安和县城关街道南街社区天和人家3号楼2单元301室")
        >>> p.admin, p.estate, p.building, p.unit, p.room
        ('甘肃省平凉市安和县城关街道南街社区', '天和人家', '3', '2', '301')
        >>> p = parse_address("东关巷十二号")
        >>> p.road, p.number
        ('东关巷', '12')
        >>> parse_address("北京市海淀区北西环西路66号中国技术交易大厦B座1728").building
        'B'
    """
    return parse_normalized(normalize_address(text))
