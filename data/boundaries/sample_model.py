"""Shared vocabulary of the sample-county generator: constants, names and records.

Every code, band and size the generator promises lives here, so that the
layout, the people and the writer agree on them.
"""

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shapely.geometry import Polygon

SEED = 20261123
# CGCS2000 / 3-degree Gauss-Kruger CM 108E: the zone that holds 107.36°E.
METRIC_CRS = "EPSG:4545"
CENTRE_LONLAT = (107.36, 35.33)
COUNTY_CODE, COUNTY_NAME = "620899000000", "安和县"
STREET_CODE, STREET_NAME = "620899001000", "城关街道"
ADDRESS_PREFIX = "甘肃省平凉市安和县城关街道"
VALID_FROM = "2026-01-01"
TOTAL_GRIDS = 51
GRID_BAND = (300, 500)
OVERLOAD_BAND = (600, 700)
COMMUNITY_MAX = 3000
PRECISION = 7
GAP_M = (200.0, 30.0)  # length along the shared edge, depth into the grid
OVERLAP_M = (150.0, 20.0)
FILL_SLACK = 12  # a grid may end this many households short of its target
MARGIN_M = 6.0  # buildings keep this far inside their grid
DEFECT_CLEARANCE_M = 12.0  # and this far from the seeded gap and overlap
ROLE_ORDER = (
    "grid_head",
    "building_head",
    "floor_head",
    "grid_worker",
    "health_worker",
    "legal_adviser",
    "police",
)
XSS_PROBE_NAME = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class CommunitySpec:
    """What one community (社区) looks like before any randomness."""

    name: str
    seed_m: tuple[float, float]  # Voronoi seed, metres east/north of the centre
    lane_share: float  # chance that a row of buildings is a lane (弄巷) of houses
    estate_share: float  # chance that a block of flats is fenced into an estate
    floors: tuple[int, ...]  # storeys of its blocks of flats, drawn uniformly
    roads: tuple[str, str]


# Codes 001-008 follow this order. The old town (东街 西街 南关 北关 太平) is
# lanes and low walk-ups; 新城 and 文昌 are the newer high-rise estates.
COMMUNITIES = (
    CommunitySpec("东街社区", (850, 450), 0.4, 0.4, (5, 6, 6, 7), ("东大街", "解放路")),
    CommunitySpec("西街社区", (-1400, -200), 0.4, 0.35, (5, 6, 6), ("西大街", "中山路")),
    CommunitySpec("南关社区", (-300, -900), 0.45, 0.35, (4, 5, 6), ("南大街", "和平路")),
    CommunitySpec("北关社区", (-200, 1000), 0.4, 0.35, (5, 6, 7), ("北大街", "崆峒路")),
    CommunitySpec("河滨社区", (850, -900), 0.25, 0.6, (6, 6, 11), ("滨河路", "泾河路")),
    CommunitySpec("新城社区", (1600, -200), 0.1, 0.8, (6, 11, 18, 18), ("新城路", "迎宾大道")),
    CommunitySpec("文昌社区", (-850, 600), 0.15, 0.7, (6, 6, 11, 18), ("文昌路", "育才路")),
    CommunitySpec("太平社区", (200, -50), 0.35, 0.45, (5, 6, 6, 7), ("太平路", "人民路")),
)  # fmt: skip

LANE_NAMES = (
    "东关巷", "仓门巷", "书院巷", "马王庙巷", "柳树巷", "二郎巷", "箭道巷", "牛市巷",
    "城隍庙巷", "钟楼巷", "鼓楼巷", "油坊巷", "铁匠巷", "官井巷", "槐树巷", "草场巷",
    "水磨巷", "药王巷", "文庙巷", "火神庙巷", "兴隆巷", "永宁巷", "福寿巷", "粮站巷",
    "盐店巷", "炭市巷", "骡马巷", "皮坊巷", "染坊巷", "磨坊巷", "醋坊巷", "杏园巷",
    "梨园巷", "桑园巷", "枣林巷", "红柳巷", "白杨巷", "砖瓦巷", "石碾巷", "仓房巷",
    "营房巷", "校场巷", "驿马巷", "米市巷", "菜市巷", "羊市巷", "纸坊巷", "毡匠巷",
    "银匠巷", "木匠巷", "关帝庙巷", "三官巷", "西关巷", "南关巷", "北关巷", "井巷",
    "学巷", "水巷", "后巷", "前进巷", "胜利巷", "团结巷", "光明巷", "红旗巷",
    "东风巷", "向阳巷", "丰收巷", "长庆巷", "五一巷", "农林巷",
)  # fmt: skip
ESTATE_NAMES = (
    "天和人家小区", "锦绣苑", "粮食局家属院", "金色家园", "阳光花园", "翠苑小区",
    "泾河湾小区", "新华苑", "供销社家属院", "世纪花园", "瑞丰嘉园", "教育局家属院",
    "御景华府", "和园小区", "安居小区", "丽景苑", "怡和苑", "书香苑", "东湖雅居",
    "盛世华庭", "幸福里小区", "税务局家属院", "滨河花园", "紫荆苑", "康乐小区",
    "同心苑", "嘉和园", "邮电家属院", "医院家属院", "农机厂家属院", "水泥厂家属院",
    "电力家属院", "商业局家属院", "建工小区", "兴盛苑", "福源小区", "秀水苑",
    "明珠花园", "祥和苑", "昌盛嘉园", "银河小区", "锦华苑", "龙泉小区", "安泰苑",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨赵马周吴徐孙朱胡郭何高罗郑梁谢宋唐韩冯于董程曹袁邓许沈彭吕苏"
    "卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭邹金陆郝孔白崔康毛邱秦"
    "史顾侯邵孟段雷钱汤尹常武乔贺龚文牛安景雒慕党"
)
GIVEN_CHARS = (
    "建国华平军明红伟芳娟敏静丽强磊洋艳勇杰涛超霞刚英兰玲秀桂凤志文斌彬鹏辉"
    "晓燕丹萍雪梅婷瑞福生荣海林峰亮宁宏永春玉珍小海东西安宝成新兴旭阳"
)


@dataclass
class Grid:
    """One grid (网格) with its final geometry in metres."""

    code: str
    name: str
    community: int
    geom: Polygon
    target: int = 0


@dataclass
class Building:
    """One building (楼栋) as a rectangle: centre, angle and size in metres."""

    community: int
    grid: str
    cx: float
    cy: float
    angle: float  # degrees, anticlockwise, of the long (length) axis
    length: float
    depth: float
    kind: str  # "estate", "road" or "lane"
    floors: int
    units: int
    households: int
    group: str  # buildings a 楼栋长 may share: same estate, road row or lane
    order: tuple[float, ...] = ()
    side: int = 0  # lane houses: 0 north of the lane (odd numbers), 1 south
    street_name: str = ""  # road or lane of the door plate
    number: int = 0
    estate: str = ""
    estate_gate: str = ""  # road and number of the estate's gate, if quoted
    residents: int = 0
    code: str = ""

    @property
    def geom(self) -> Polygon:
        """The footprint."""
        return Polygon(
            self.local_to_xy(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) / 2)
        )

    def local_to_xy(self, uv: np.ndarray) -> np.ndarray:
        """Map fractions of length/depth (-0.5..0.5) to metric coordinates."""
        t = math.radians(self.angle)
        c, s = math.cos(t), math.sin(t)
        u = uv[:, 0] * self.length
        v = uv[:, 1] * self.depth
        return np.column_stack([self.cx + c * u - s * v, self.cy + s * u + c * v])


@dataclass
class County:
    """Everything generated, in metres, before it is written."""

    street: Polygon
    communities: list[Polygon]
    community_codes: list[str]
    grids: list[Grid]
    gap: dict[str, Any]
    overlap: dict[str, Any]
    estates: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    lanes: list[dict[str, Any]] = field(default_factory=list)
    centres: list[dict[str, Any]] = field(default_factory=list)
    overloaded: str = ""
    vacant: dict[str, list[str]] = field(default_factory=dict)
    xss_probe: dict[str, str] = field(default_factory=dict)
    service_gap: list["Building"] = field(default_factory=list)
