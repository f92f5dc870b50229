"""One catalogue of user-facing text (用户提示): Chinese first, English available.

Every error code and CLI message lives here so that the CLI, the API and the
maps say the same thing in the same words.
"""

from typing import Literal

Lang = Literal["zh", "en"]

MESSAGES: dict[str, tuple[str, str]] = {
    "cli_internal_error": (
        "程序内部错误（{kind}），不是您的数据问题；详情已记录到 {log}，请附上该文件报告问题",
        "Internal error ({kind}), not a problem with your data; details are in {log}: please attach it to a bug report",
    ),
    # files and formats
    "file_not_found": ("找不到文件：{path}", "File not found: {path}"),
    "file_unreadable": (
        "无法读取文件 {path}：{reason}",
        "Cannot read {path}: {reason}",
    ),
    "format_unsupported": (
        "不支持的文件格式：{suffix}（支持 GeoJSON、GeoPackage、Shapefile、KML、CSV）",
        "Unsupported file format: {suffix} (GeoJSON, GeoPackage, Shapefile, KML and CSV are supported)",
    ),
    "layer_ambiguous": (
        "文件 {path} 有多个图层，请用 --layer 指定其中之一：{available}",
        "{path} holds several layers; name one with --layer: {available}",
    ),
    "file_unwritable": (
        "无法写入文件 {path}：{reason}",
        "Cannot write {path}: {reason}",
    ),
    "format_needs_geometry": (
        "{suffix} 文件必须含几何图形；无几何的表格请导出为 .csv 或 .gpkg",
        "{suffix} files need geometry; export attribute-only tables as .csv or .gpkg",
    ),
    "layer_empty": ("文件 {path} 中没有要素", "{path} holds no features"),
    "buildings_as_points": (
        "{n} 栋楼栋只有点位（没有轮廓）：按所在网格归属，但无法发现被网格边界切开的楼栋；导入楼栋轮廓可检查跨网格",
        "{n} buildings are points (no footprint): they are assigned to the grid holding them, but a building cut by a grid edge cannot be seen; import footprints to check splits",
    ),
    "radius_missing": (
        "服务半径为空：服务中心的 {field} 列须填写服务半径（米），如睦邻中心 500",
        "No service radius: a centre's {field} column must hold its radius in metres, e.g. 500 for a 睦邻中心",
    ),
    "field_missing": (
        "缺少字段 {field}（现有字段：{available}）",
        "Field {field} is missing (fields present: {available})",
    ),
    "csv_coordinates_missing": (
        "CSV 中找不到经纬度列（可用 lon/lat、lng/lat、x/y、经度/纬度，或用 --lon-field/--lat-field 指定）",
        "No coordinate columns in the CSV (use lon/lat, lng/lat, x/y, 经度/纬度, or name them with --lon-field/--lat-field)",
    ),
    "value_invalid": (
        "字段 {field} 的值无效：{value}",
        "Invalid value for {field}: {value}",
    ),
    "tianditu_key_missing": (
        "使用天地图底图需要密钥：请设置 GEOGRID_TIANDITU_KEY",
        "天地图 tiles need a key: set GEOGRID_TIANDITU_KEY",
    ),
    # coordinates
    "crs_missing": (
        "文件 {path} 没有坐标参考系，请用 --crs 指定（如 EPSG:4326、EPSG:4490、gcj02、bd09）",
        "{path} has no coordinate reference system; name one with --crs (e.g. EPSG:4326, EPSG:4490, gcj02, bd09)",
    ),
    "crs_unknown": (
        "无法识别的坐标参考系：{crs}（可用 EPSG 代码、gcj02 或 bd09）",
        "Unknown coordinate reference system: {crs} (use an EPSG code, gcj02 or bd09)",
    ),
    "crs_not_geographic": (
        "{crs} 不是经纬度坐标，不能作为 GCJ-02/BD-09 的输入",
        "{crs} is not longitude/latitude and cannot be GCJ-02/BD-09 input",
    ),
    "latlon_swapped": (
        "坐标疑似经纬度顺序颠倒（读到 x={x}, y={y}；交换后落在中国境内）",
        "Coordinates look like latitude/longitude swapped (read x={x}, y={y}; swapped they fall inside China)",
    ),
    "coordinate_out_of_range": (
        "坐标超出经纬度范围（x={x}, y={y}）",
        "Coordinates out of longitude/latitude range (x={x}, y={y})",
    ),
    # geometry
    "geometry_missing": ("缺少几何图形", "Geometry is missing"),
    "geometry_empty": ("几何图形为空", "Geometry is empty"),
    "geometry_type_wrong": (
        "几何类型应为 {expected}，实际为 {actual}",
        "Geometry should be {expected}, got {actual}",
    ),
    "geometry_invalid": (
        "几何图形无效：{reason}（可加 --repair 自动修复）",
        "Invalid geometry: {reason} (add --repair to fix it)",
    ),
    "geometry_repaired": (
        "已修复几何图形：{reason}；面积变化 {area_change_m2} 平方米",
        "Geometry repaired: {reason}; area changed by {area_change_m2} m²",
    ),
    "geometry_unrepairable": (
        "几何图形无法修复：{reason}",
        "Geometry cannot be repaired: {reason}",
    ),
    # codes and the area tree
    "level_invalid": (
        "无效的层级：{level}（可用：{allowed}）",
        "Invalid level: {level} (allowed: {allowed})",
    ),
    "code_missing": ("缺少编码", "Code is missing"),
    "code_invalid": ("编码 {code} 无效：{reason}", "Code {code} is invalid: {reason}"),
    "code_duplicate": (
        "编码 {code} 在文件中重复（另见记录 {other}）",
        "Code {code} appears more than once in the file (also record {other})",
    ),
    "code_taken": (
        "编码 {code} 已被{other_level}“{other_name}”使用",
        "Code {code} is already used by {other_level} '{other_name}'",
    ),
    "parent_unknown": (
        "上级编码 {parent_code} 不存在（应为现行的{parent_level}）",
        "Parent code {parent_code} does not exist (expected a current {parent_level})",
    ),
    "parent_not_found": (
        "没有包含此{level}的{parent_level}",
        "No {parent_level} contains this {level}",
    ),
    "outside_parent": (
        "超出上级 {parent_code} 的范围 {outside_m2} 平方米（{outside_pct}%，容差 {tolerance_m} 米）",
        "Reaches {outside_m2} m² ({outside_pct}%) outside its parent {parent_code} (tolerance {tolerance_m} m)",
    ),
    "area_not_found": ("找不到区域 {code}", "Area {code} not found"),
    "public_base_url_missing": (
        (
            "未设置 GEOGRID_PUBLIC_BASE_URL：二维码需要手机能打开的完整地址（如 "
            "https://grid.example.gov.cn/）。请设置后重试，或加 --no-qr 生成不含二维码的联系卡"
        ),
        (
            "GEOGRID_PUBLIC_BASE_URL is not set: a QR code needs an address a phone "
            "can open (such as https://grid.example.gov.cn/). Set it, or add --no-qr "
            "for cards without QR codes"
        ),
    ),
    "building_not_found": ("找不到楼栋 {code}", "Building {code} not found"),
    "lane_not_found": ("找不到弄巷 {code}", "Lane {code} not found"),
    "road_not_found": ("找不到道路 {code}", "Road {code} not found"),
    "centre_not_found": ("找不到服务中心 {code}", "Service centre {code} not found"),
    "address_code_not_found": (
        "找不到地址 {code}（或不在您所在的街道）",
        "Address {code} not found (or not in your street)",
    ),
    "login_failed": ("用户名或密码错误", "Wrong username or password"),
    "token_invalid": (
        "登录凭据无效或已过期，请重新登录",
        "The token or API key is invalid or has expired: log in again",
    ),
    "password_too_short": (
        "密码至少需要 {n} 个字符",
        "A password needs at least {n} characters",
    ),
    "password_weak": (
        "密码太常见或与用户名相同，请换一个（至少 {n} 个字符，不含用户名，不用常见密码）",
        "The password is too common or is the user name: choose another (at least {n} characters, not the user name, not a common password)",
    ),
    "login_throttled": (
        "登录失败次数过多，请 {retry_after} 秒后再试",
        "Too many failed logins: try again in {retry_after} s",
    ),
    "plan_not_found": ("找不到规划草案 {id}", "Plan {id} not found"),
    "plan_not_draft": (
        "规划 {id} 已{status}，不能再修改",
        "Plan {id} is {status} and can no longer change",
    ),
    "plan_grid_unknown": ("草案中没有网格 {code}", "The draft has no grid {code}"),
    "plan_code_taken": (
        "网格编码 {code} 在草案中已被使用",
        "Grid code {code} is already used in the draft",
    ),
    "plan_grid_outside": (
        "网格 {code} 不在本规划范围内的任何社区中",
        "Grid {code} lies in no community of this plan's scope",
    ),
    "plan_split_line": (
        "分割线应从网格 {code} 外穿过到另一侧，把它分成两块（现在是 {n} 块）",
        "The split line must cross grid {code} from one side to the other, into two parts (it gives {n})",
    ),
    "plan_merge_few": ("合并至少需要两个网格", "A merge needs at least two grids"),
    "plan_merge_parents": (
        "网格 {codes} 属于不同社区，不能合并",
        "Grids {codes} belong to different communities and cannot merge",
    ),
    "plan_not_contiguous": (
        "网格 {code} 调整后不连片（分成多块），请检查是否相邻",
        "Grid {code} would be in several pieces: are they neighbours?",
    ),
    "plan_move_not_adjacent": (
        "楼栋 {building} 的用地与网格 {grid} 不相邻（相距 {distance_m} 米），中间隔着其他楼栋的用地；可连同更靠近的楼栋（如 {bridge}）一起迁移",
        "Building {building}'s land does not border grid {grid} ({distance_m} m away): other buildings' land lies between; move it together with one nearer the edge (e.g. {bridge})",
    ),
    "plan_move_nothing": (
        "所选楼栋已在网格 {code} 中，或不在任何网格中",
        "The chosen buildings are already in grid {code}, or in no grid",
    ),
    "plan_nothing_to_undo": (
        "规划 {id} 没有可撤销的编辑",
        "Plan {id} has no edit to undo",
    ),
    "plan_stale": (
        "规划 {id} 基于旧版网格，现行网格已被他人发布更改：请先 rebase（geogrid plan rebase {id}）再发布",
        "Plan {id} is based on an older generation, someone published since: rebase it first (geogrid plan rebase {id})",
    ),
    "plan_adds_defects": (
        "规划 {id} 会新增空白区或重叠（{rules}），不能发布",
        "Plan {id} would add gaps or overlaps ({rules}) and cannot be published",
    ),
    "person_exists": ("人员编码 {code} 已存在", "Person code {code} already exists"),
    "person_not_found": ("找不到人员 {code}", "Person {code} not found"),
    "assignment_not_found": ("找不到任职记录 {id}", "Assignment {id} not found"),
    "user_exists": ("用户 {username} 已存在", "User {username} already exists"),
    "user_not_found": ("找不到用户 {username}", "User {username} not found"),
    "staff_street_missing": (
        "工作人员 {username} 需要指定所属街道编码（--street，12 位国家统计局编码）",
        "Staff user {username} needs the code of their street (--street, 12-digit NBS code)",
    ),
    "version_conflict": (
        "{what} 已被他人修改（当前版本 {current}，您提交的是 {given}），请刷新后重试",
        "{what} was changed by someone else (now version {current}, you sent {given}): reload and retry",
    ),
    "precondition_required": (
        "修改 {what} 需要 If-Match 请求头（先 GET 取得 ETag）",
        "Changing {what} needs an If-Match header (GET it first for its ETag)",
    ),
    "geojson_type_unsupported": (
        "不支持的 GeoJSON 类型：{type}（可用：{allowed}）",
        "Unsupported GeoJSON type: {type} (use {allowed})",
    ),
    "person_other_street": (
        "人员 {code} 在其他街道任职：只有本街道工作人员或管理员可以修改或为其新增任职",
        "Person {code} holds a role in another street: only that street's staff or an admin may change them or give them a role",
    ),
    "forbidden": (
        "{what}仅限{role}查看，请先登录",
        "{what} is for {role} only: log in first",
    ),
    "finding_not_found": (
        "找不到检查发现 {key}（请先运行 geogrid check）",
        "No finding {key} (run geogrid check first)",
    ),
    "valid_from_too_early": (
        "生效时间 {valid_from} 早于现行版本的生效时间（{codes}），历史不能倒序",
        "valid-from {valid_from} is before the current generation of {codes} began; history cannot run backwards",
    ),
    "lookup_query_missing": (
        "请给出坐标（lon 和 lat，或 --point）或地址文本",
        "Give coordinates (lon and lat, or --point) or an address text",
    ),
    "geojson_invalid": ("GeoJSON 无效：{reason}", "Invalid GeoJSON: {reason}"),
    "ring_not_closed": (
        "多边形的环未闭合：首尾两个坐标必须相同（RFC 7946）",
        "A polygon ring is not closed: its first and last positions must be the same (RFC 7946)",
    ),
    # OGC API - Features
    "collection_not_found": (
        "找不到要素集合 {collection}（可用：{available}）",
        "No feature collection {collection} (available: {available})",
    ),
    "feature_not_found": (
        "要素集合 {collection} 中没有要素 {feature}",
        "No feature {feature} in collection {collection}",
    ),
    "parameter_unknown": (
        "不支持的查询参数：{parameter}（可用：{allowed}）",
        "Unknown query parameter: {parameter} (allowed: {allowed})",
    ),
    "parameter_value_invalid": (
        "参数 {parameter} 的值无效：{value}（应为 {expected}）",
        "Invalid value for {parameter}: {value} (expected {expected})",
    ),
    "datetime_unsupported": (
        "要素集合 {collection} 没有历史版本，不能按 datetime 筛选（仅区域集合可以）",
        "Collection {collection} keeps no generations; datetime filters area collections only",
    ),
    "shape_too_large": (
        "范围过大：{area_km2} 平方公里（最多 {limit_km2} 平方公里）",
        "Shape too large: {area_km2} km² (at most {limit_km2} km²)",
    ),
    "address_not_found": (
        "没有把握确定地址“{query}”，以下是最接近的候选",
        "No confident match for '{query}'; the closest candidates follow",
    ),
    # people and roles
    "scheme_invalid": (
        "角色方案 {name} 无效：{reason}",
        "Role scheme {name} is invalid: {reason}",
    ),
    "scheme_not_found": (
        "找不到角色方案 {name}（已有：{available}）",
        "Role scheme {name} not found (available: {available})",
    ),
    "role_unknown": (
        "角色 {role} 不在方案“{scheme}”中（可用：{available}）",
        "Role {role} is not in scheme '{scheme}' (available: {available})",
    ),
    "target_level_wrong": (
        "角色 {role} 应挂在{expected}上，而不是{actual}",
        "Role {role} attaches to {expected}, not {actual}",
    ),
    "target_unknown": (
        "任职对象 {target_code} 不存在",
        "Target {target_code} does not exist",
    ),
    "person_conflict": (
        "人员 {person_code} 的 {field} 前后不一致：{first} / {second}",
        "Person {person_code} has two values for {field}: {first} / {second}",
    ),
    "date_invalid": (
        "日期无效：{value}（应为 YYYY-MM-DD）",
        "Invalid date: {value} (expected YYYY-MM-DD)",
    ),
    # imports
    "import_rejected": (
        "导入被拒绝：{n_errors} 条记录有错误，未写入任何数据",
        "Import rejected: {n_errors} records have errors; nothing was written",
    ),
    "import_done": (
        "已导入 {n_written} 条{kind}（读取 {n_read} 条，{n_warnings} 条警告）",
        "Imported {n_written} {kind} ({n_read} read, {n_warnings} warnings)",
    ),
    "layer_unknown": (
        "未知的图层：{layer}（可用：{allowed}）",
        "Unknown layer: {layer} (allowed: {allowed})",
    ),
    "export_done": ("已导出 {n} 条{layer}到 {path}", "Exported {n} {layer} to {path}"),
    # import robustness on real files (issue 12)
    "encoding_unknown": (
        "无法识别 {path} 的字符编码（没有 .cpg 文件，按 UTF-8 和 GB18030 都无法解码）：请用 --encoding 指定，如 --encoding gbk 或 --encoding latin1",
        "Cannot tell the text encoding of {path} (no .cpg file, and neither UTF-8 nor GB18030 decodes it): name it with --encoding, e.g. --encoding gbk or --encoding latin1",
    ),
    "encoding_guessed": (
        "Shapefile 没有 .cpg，已按 {encoding} 读取文字；如有乱码请用 --encoding 指定",
        "The shapefile has no .cpg; its text was read as {encoding}: name another with --encoding if it looks wrong",
    ),
    "crs_missing_dxf": (
        "DXF 文件 {path} 不记录坐标参考系，请用 --crs 指定（如 CGCS2000 三度带 EPSG:4547，或 EPSG:4326）",
        "DXF file {path} records no coordinate reference system; name one with --crs (e.g. CGCS2000 3-degree zone EPSG:4547, or EPSG:4326)",
    ),
    "dxf_labels_unplaced": (
        "{n} 个文字标注不在任何闭合多段线内，已忽略",
        "{n} text labels lie inside no closed polyline and were ignored",
    ),
    "code_field_missing": (
        "缺少编码字段 {field}：请用 --code-field 指定编码所在的列，可能是 {candidates}（如 --code-field {example}；现有字段：{available}）",
        "No code field {field}: name the column holding the codes with --code-field; likely {candidates} (e.g. --code-field {example}; fields present: {available})",
    ),
    "file_latlon_swapped": (
        "整个文件的坐标疑似经纬度顺序颠倒（{n} 条记录，如 x={x}, y={y}；交换后落在中国境内）：请加 --swap-xy 重新导入",
        "The whole file looks latitude/longitude swapped ({n} records, e.g. x={x}, y={y}; swapped they fall inside China): import it again with --swap-xy",
    ),
    "value_too_long": (
        "字段 {field} 的值过长：{length} 个字符，最多 {limit} 个",
        "The value of field {field} is too long: {length} characters, at most {limit}",
    ),
    "record_skipped": ("已跳过：{message}", "Skipped: {message}"),
    "import_skipped": (
        "已跳过 {n} 条有错误的记录（--skip-invalid），见上表",
        "Skipped {n} records with errors (--skip-invalid), listed above",
    ),
    "areas_would_end": (
        "此文件未包含 {n} 个现行{level}，导入会将其结束（{codes}）。若文件确为完整的新版本，请加 --replace；若只是新增或更新其中几个，请加 --keep；若是 KML 的一个文件夹，请一次导入全部（--layer 甲,乙）",
        "This file leaves out {n} current {level} areas, which the import would end ({codes}). If the file is the complete new generation, add --replace; if it only adds or updates some, add --keep; if it is one KML folder, import all folders at once (--layer A,B)",
    ),
    "codes_padded": (
        "{n} 个短编码（高德 adcode 式）已按国家统计局规则补零为 12 位（{level}）",
        "{n} short codes (Amap adcode style) were padded with zeros to the 12-digit NBS form ({level})",
    ),
    "report_record": ("记录", "record"),
    "report_severity": ("级别", "severity"),
    "report_code": ("问题", "code"),
    "report_message": ("说明", "message"),
    "reason_ring_unclosed": ("环未闭合", "a ring is not closed"),
    "reason_unparseable": (
        "几何无法解析：坐标不是数字或点数不足",
        "unparseable geometry: coordinates not numbers or too few points",
    ),
    "geos_self_intersection": ("边界自相交", "self-intersection"),
    "geos_self_intersection_at": ("边界自相交（{at}）", "self-intersection at {at}"),
    "geos_ring_self_intersection": ("环自相交", "ring self-intersection"),
    "geos_ring_self_intersection_at": (
        "环自相交（{at}）",
        "ring self-intersection at {at}",
    ),
    "geos_too_few_points": ("点数不足", "too few points"),
    "geos_too_few_points_at": ("点数不足（{at}）", "too few points at {at}"),
    "geos_hole_outside_shell": ("内环在外环之外", "hole lies outside its shell"),
    "geos_hole_outside_shell_at": (
        "内环在外环之外（{at}）",
        "hole lies outside its shell at {at}",
    ),
    "geos_nested_holes": ("内环相互嵌套", "nested holes"),
    "geos_nested_holes_at": ("内环相互嵌套（{at}）", "nested holes at {at}"),
    "geos_interior_disconnected": ("内部不连通", "interior is disconnected"),
    "geos_interior_disconnected_at": (
        "内部不连通（{at}）",
        "interior is disconnected at {at}",
    ),
    "geos_nested_shells": ("外环相互嵌套", "nested shells"),
    "geos_nested_shells_at": ("外环相互嵌套（{at}）", "nested shells at {at}"),
    "geos_duplicate_rings": ("环重复", "duplicate rings"),
    "geos_duplicate_rings_at": ("环重复（{at}）", "duplicate rings at {at}"),
    "geos_invalid_coordinate": ("坐标无效", "invalid coordinate"),
    "geos_invalid_coordinate_at": ("坐标无效（{at}）", "invalid coordinate at {at}"),
    "geos_ring_not_closed": ("环未闭合", "ring is not closed"),
    "geos_ring_not_closed_at": ("环未闭合（{at}）", "ring is not closed at {at}"),
    "geos_other": ("{text}", "{text}"),
    # web requests (API 请求)
    "parameter_invalid": ("参数无效：{names}", "Invalid parameter: {names}"),
    "payload_too_large": (
        "请求体过大：上限 {limit} 字节（约 {limit_mb} MB），请缩小范围或分批提交",
        "Request body too large: the limit is {limit} bytes (about {limit_mb} MB); send less or split it",
    ),
    "route_not_found": (
        "没有这个地址：{path}（接口列表见 /docs）",
        "Nothing at {path} (see /docs for the endpoints)",
    ),
    "method_not_allowed": (
        "{path} 不支持 {method} 请求（可用：{allowed}）",
        "{method} is not allowed on {path} (allowed: {allowed})",
    ),
    "http_error": (
        "请求无法处理（HTTP {status}）：{reason}",
        "The request cannot be handled (HTTP {status}): {reason}",
    ),
    "internal_error": (
        "服务器内部错误，已记录日志；请稍后重试或联系管理员",
        "Internal server error, logged; try again later or contact the administrator",
    ),
    # storage
    "service_unavailable": (
        "数据库暂时不可用，请稍后重试",
        "The database is unavailable for the moment: try again shortly",
    ),
    "database_unavailable": (
        "无法连接数据库 {url}：{reason}",
        "Cannot connect to the database {url}: {reason}",
    ),
    "schema_newer": (
        "数据库结构版本 {revision} 比本程序认识的最新版本 {head} 新：请升级 geogrid 后再打开此数据库",
        "The schema is at revision {revision}, newer than this geogrid's {head}: upgrade geogrid",
    ),
    "spatialite_missing": (
        "无法加载 mod_spatialite（请安装 Debian 软件包 libsqlite3-mod-spatialite）：{reason}",
        "Cannot load mod_spatialite (install the Debian package libsqlite3-mod-spatialite): {reason}",
    ),
}

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "district": ("区县", "district"),
    "street": ("街道", "street"),
    "community": ("社区", "community"),
    "grid": ("网格", "grid"),
    "estate": ("小区", "estate"),
    "building": ("楼栋", "building"),
    "lane": ("弄巷", "lane"),
    "road": ("道路", "road"),
    "address": ("地址", "address"),
    "centre": ("服务中心", "service centre"),
    "person": ("人员", "person"),
    "assignment": ("任职", "assignment"),
    # layer names as the CLI and exports spell them
    "buildings": ("楼栋", "buildings"),
    "lanes": ("弄巷", "lanes"),
    "roads": ("道路", "roads"),
    "addresses": ("地址", "addresses"),
    "centres": ("服务中心", "service centres"),
    "people": ("人员", "people"),
    "assignments": ("任职", "assignments"),
}


def render(code: str, lang: Lang = "zh", /, **params: object) -> str:
    """Render the message for ``code`` in ``lang`` with its parameters filled in."""
    zh, en = MESSAGES.get(code, (code, code))
    template = zh if lang == "zh" else en
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        # A missing parameter must never hide the error that is being reported.
        return f"{template} {params}"


def level_name(level: str, lang: Lang = "zh") -> str:
    """Name a level or layer (层级) in the user's language."""
    zh, en = LEVEL_NAMES.get(level, (level, level))
    return zh if lang == "zh" else en


# Parameters that hold a level or layer key, named in the reader's language.
_LEVEL_PARAMS = ("level", "parent_level", "other_level")


def localise(params: dict[str, object], lang: Lang) -> dict[str, object]:
    """Message parameters for ``lang``: level keys named, ``<p>_en`` used in English.

    A parameter may carry its English text beside it as ``<name>_en`` (a
    reason written in Chinese, say), so an English message holds no Chinese.
    """
    out = dict(params)
    for key in [k for k in out if k.endswith("_en")]:
        value = out.pop(key)
        if lang == "en":
            out[key.removesuffix("_en")] = value
    for key in _LEVEL_PARAMS:
        if isinstance(out.get(key), str):
            out[key] = level_name(str(out[key]), lang)
    return out
