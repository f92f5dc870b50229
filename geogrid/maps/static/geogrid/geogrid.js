/* geogrid.js: draws a community's grids, 小区, buildings, lanes and centres
 * from the JSON geogrid writes into the page, with a search box (楼栋/小区/地址),
 * locate-me and #grid=CODE links. Every text from the data goes into the page as
 * a DOM text node, never as HTML, so a hostile name can only ever show as text.
 */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  /* A posted phone as a tap-to-call link; a masked one (138****0001) stays text. */
  var PHONE = /^\+?[0-9][0-9 \-]{5,}[0-9]$/;
  function cell(value) {
    var td = el("td");
    var text = value === undefined || value === null ? "" : String(value);
    if (PHONE.test(text)) {
      var a = el("a", "tel", text);
      a.href = "tel:" + text.replace(/[^0-9+]/g, "");
      td.appendChild(a);
    } else if (text) {
      td.textContent = text;
    }
    return td;
  }

  function contactTable(data, rows) {
    var table = el("table");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      for (var i = 1; i < row.length; i++) tr.appendChild(cell(row[i]));
      table.appendChild(tr);
      var duty = data.duties[row[0]];
      if (duty) {
        var line = el("tr");
        var dutyCell = el("td", "duty", duty);
        dutyCell.colSpan = row.length;
        line.appendChild(dutyCell);
        table.appendChild(line);
      }
    });
    return table;
  }

  var gridProps = {};  /* grid code -> its properties, for a building's card */

  /* The posted contact card (公示牌) of one feature. */
  function card(data, props, kindLabel) {
    var box = el("div", "geogrid-card");
    box.appendChild(el("h4", null, props.name));
    var sub = kindLabel + " · 编码 " + props.code;
    if (props.estate) sub += " · " + props.estate;
    box.appendChild(el("p", "code", sub));
    if (props.note) box.appendChild(el("p", "note", props.note));
    if (props.doors && props.doors.length) box.appendChild(el("p", "doors", "门牌：" + props.doors.join("、")));
    var rows = props.cards || [];
    if (rows.length) {
      box.appendChild(contactTable(data, rows));
    } else if (props.cards) {
      box.appendChild(el("p", "empty", "暂无公示人员 (no posted contact)"));
    }
    /* A resident who found their building wants their 网格员 too. */
    var grid = kindLabel === "楼栋" && props.grid ? gridProps[props.grid] : null;
    if (grid) {
      box.appendChild(el("p", "grid", "所在网格：" + grid.name));
      if ((grid.cards || []).length) box.appendChild(contactTable(data, grid.cards));
    }
    if (data.supervision && kindLabel === "网格") {
      box.appendChild(el("p", "supervision", "监督电话：" + data.supervision));
    }
    return box;
  }

  var byCode = {};  /* feature code -> layer, for #grid=CODE links */
  var normalize = function (text) { return text.replace(/\s+/g, ""); };

  /* The address normaliser of the lookups, from its rules as data
   * (geogrid.domain.addresses.normalizer_rules): this is only the engine,
   * so 3栋, ３号楼 and 三号楼 mean 3号楼 here exactly as they do on the server. */
  function normalizer(rules) {
    var from = rules.traditional[0], to = rules.traditional[1];
    function has(text, chars) {
      for (var i = 0; i < chars.length; i++) if (text.indexOf(chars[i]) >= 0) return true;
      return false;
    }
    function digits(numeral) {
      var chars = Array.from(numeral), total = 0, current = 0;
      if (!chars.some(function (c) { return c in rules.multipliers; })) {
        return chars.map(function (c) { return String(rules.digits[c]); }).join("");
      }
      chars.forEach(function (c) {
        if (c in rules.digits) current = rules.digits[c];
        else { total += (current || 1) * rules.multipliers[c]; current = 0; }
      });
      return String(total + current);
    }
    var steps = rules.steps.map(function (s) {
      return {re: new RegExp(s.pattern, "gu"), to: s.numeral ? digits : s.replacement, when: s.when};
    });
    return function (text) {
      text = String(text).normalize("NFKC").toUpperCase();
      if (has(text, from)) {
        text = Array.from(text, function (c) { var i = from.indexOf(c); return i < 0 ? c : to[i]; }).join("");
      }
      steps.forEach(function (s) { if (!s.when || has(text, s.when)) text = text.replace(s.re, s.to); });
      return text;
    };
  }

  /* Search entries from the page's [name, kind, code, …] rows. */
  function entries(rows) {
    return rows.map(function (row) {
      return {label: String(row[0]), key: normalize(String(row[0])), kind: row[1], code: row[2], row: row};
    });
  }

  /* ``key`` written out inside ``query``, not as part of a longer number:
   * 2号楼 is not in 12号楼, nor 东关巷1号 in 东关巷12号. */
  function within(query, key) {
    for (var at = query.indexOf(key); at >= 0; at = query.indexOf(key, at + 1)) {
      var before = /[0-9]/.test(query.charAt(at - 1)) && /^[0-9]/.test(key);
      var after = /[0-9]/.test(query.charAt(at + key.length)) && /[0-9]$/.test(key);
      if (!before && !after) return true;
    }
    return false;
  }

  /* A building known only by its point is a dot in the building style. */
  function dot(f, latlng) {
    return L.circleMarker(latlng, {radius: 5, className: "geogrid-building-point"});
  }

  /* A card always fits below the controls down the left (zoom, search,
   * locate: 170 px) and above the folded legend and attribution, scrolling
   * inside when longer: on a phone the names and phones sat under the search
   * box, and on a desktop a #grid= card was cut off at the top. */
  function popupOptions() {
    var top = 180, bottom = 60;
    return {
      maxWidth: Math.min(340, window.innerWidth - 40),
      maxHeight: Math.max(160, window.innerHeight - top - bottom - 40),
      autoPanPaddingTopLeft: [10, top],
      autoPanPaddingBottomRight: [10, bottom],
    };
  }

  function polygons(data, features, group, style, kindLabel, onEach) {
    features.forEach(function (f) {
      var layer = L.geoJSON(f, {style: style(f.properties), pointToLayer: dot});
      /* Built when opened: building hundreds of cards up front cost more
       * CPU and DOM than the whole map. */
      layer.bindPopup(function () { return card(data, f.properties, kindLabel); }, popupOptions());
      byCode[f.properties.code] = layer;
      if (onEach) onEach(f, layer);
      layer.addTo(group);
    });
  }

  function show(map, layer) {
    var bounds = layer.getBounds();
    /* Not animated: a popup opened during the zoom animation was placed and
     * panned for the old view, half off the screen. */
    map.fitBounds(bounds, {maxZoom: 18, padding: [20, 20], animate: false});
    layer.openPopup(bounds.getCenter());
    /* Panned clear of the controls once more when the view has settled: the
     * first pan can be measured against a view still moving (seen on page
     * load with a #grid= link, the card's top 160 px off the screen). */
    var popup = layer.getPopup();
    setTimeout(function () { if (popup && popup.isOpen()) popup.update(); }, 400);
  }

  /* A search box over ``index``; ``onPick(entry)`` when one is chosen. */
  function searchBox(index, onPick) {
    var box = el("div", "geogrid-search leaflet-bar");
    var input = el("input");
    input.type = "search";
    input.placeholder = "搜索楼栋、小区、地址 (search)";
    input.setAttribute("aria-label", "搜索楼栋、小区或地址");
    var list = el("ul");
    box.appendChild(input);
    box.appendChild(list);
    function pick(entry) {
      list.textContent = "";
      input.value = entry.label;
      onPick(entry);
    }
    /* Both sides normalised. Exact names first, then names starting with
     * the query, then names holding it, shorter before longer, so 东关巷
     * (the lane) beats 东关巷1号; last the names a whole address holds
     * (…3号楼2单元501室), the longest first: the building, not its 小区. */
    function matches() {
      var q = normalize(input.value);
      if (!q) return [];
      var found = [];
      index.forEach(function (entry) {
        var at = entry.key.indexOf(q);
        var rank = at < 0 ? (entry.key.length > 1 && within(q, entry.key) ? 3 : -1)
          : entry.key === q ? 0 : at === 0 ? 1 : 2;
        if (rank >= 0) found.push({rank: rank, entry: entry});
      });
      found.sort(function (a, b) {
        var longer = a.entry.key.length - b.entry.key.length;
        return a.rank - b.rank || (a.rank === 3 ? -longer : longer);
      });
      return found.slice(0, 8).map(function (f) { return f.entry; });
    }
    input.addEventListener("input", function () {
      list.textContent = "";
      var found = matches();
      if (input.value && !found.length) list.appendChild(el("li", "none", "未找到 (not found)"));
      found.forEach(function (entry) {
        var item = el("li", "geogrid-result");
        item.appendChild(el("span", "kind", entry.kind));
        item.appendChild(document.createTextNode(entry.label));
        if (entry.where) item.appendChild(el("span", "where", entry.where));
        item.addEventListener("click", function (e) {
          /* The list empties under the click; stop it here, or the map would
           * take it for a click on the map and close the new popup. */
          e.stopPropagation();
          e.preventDefault();
          pick(entry);
        });
        list.appendChild(item);
      });
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        var found = matches();
        if (found.length) pick(found[0]);
      }
    });
    return box;
  }

  function searchControl(map, index) {
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var box = searchBox(index, function (entry) { show(map, byCode[entry.code]); });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
  }

  /* The site's index: one box over every community's entries; a pick opens
   * the community's page on what was found. */
  var FRAGMENT = {"网格": "grid", "小区": "estate", "楼栋": "building", "地址": "building", "弄巷": "lane"};

  function searchSite(data) {
    if (data.normalizer) normalize = normalizer(data.normalizer);
    var index = entries(data.search);
    index.forEach(function (entry) { entry.where = data.communities[entry.row[3]][1]; });
    var box = searchBox(index, function (entry) {
      var community = data.communities[entry.row[3]][0];
      location.href = encodeURIComponent(community) + ".html#" + FRAGMENT[entry.kind] + "=" +
        encodeURIComponent(entry.code);
    });
    document.getElementById("geogrid-site-search").appendChild(box);
  }

  function locateControl(map) {
    var control = L.control({position: "topleft"});
    var here = null;
    control.onAdd = function () {
      var bar = el("div", "leaflet-bar geogrid-locate");
      var button = el("a", null, "◎");
      button.href = "#";
      button.title = "我的位置 (locate me)";
      button.setAttribute("role", "button");
      bar.appendChild(button);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        map.locate({setView: true, maxZoom: 17});
      });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    };
    map.on("locationfound", function (e) {
      if (here) map.removeLayer(here);
      here = L.circle(e.latlng, {radius: e.accuracy, className: "geogrid-here"}).addTo(map);
    });
    map.on("locationerror", function (e) {
      L.popup().setLatLng(map.getCenter())
        .setContent(el("div", "geogrid-message", "无法获取位置 (cannot locate): " + e.message))
        .openOn(map);
    });
    control.addTo(map);
  }

  function followHash(map) {
    var m = /^#(?:grid|building|estate|lane)=(.+)$/.exec(decodeURIComponent(location.hash));
    if (m && byCode[m[1]]) show(map, byCode[m[1]]);
  }

  /* Grid labels that would overlap one already shown are hidden until a
   * zoom parts them: at a community's first zoom on a phone, names printed
   * over each other could be read as neither. In the grids' own order. */
  var labelled = [];
  function declutter(layers) {
    var kept = [];
    layers.forEach(function (layer) {
      var tip = layer.getTooltip(), node = tip && tip.getElement();
      if (!node) return;
      node.style.visibility = "";
      var r = node.getBoundingClientRect();
      var clash = kept.some(function (k) {
        return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom;
      });
      if (clash) node.style.visibility = "hidden";
      else kept.push(r);
    });
  }

  function whenParsed(f) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", f);
    else f();
  }

  function draw(map, data, groups) {
    if (data.normalizer) normalize = normalizer(data.normalizer);
    /* The legend starts folded on a phone, where open it hid a fifth of the map. */
    whenParsed(function () {
      var legend = document.querySelector("details.geogrid-legend");
      if (legend && window.matchMedia("(min-width: 601px)").matches) legend.open = true;
    });
    data.grids.forEach(function (f) { gridProps[f.properties.code] = f.properties; });
    /* Roads in a pane of their own under the grids' fill (also when the
     * layer is switched off and on again): the offline base a resident
     * finds their street on, with no tile server. */
    if (!map.getPane("geogrid-roads")) map.createPane("geogrid-roads").style.zIndex = 350;
    (data.roads || []).forEach(function (f) {
      var major = /^(主干|快速|motorway|trunk|primary)/.test(f.properties.kind || "");
      L.geoJSON(f, {
        style: {color: "#fff", weight: major ? 8 : 5, opacity: 1, className: "geogrid-road"},
        pane: "geogrid-roads", interactive: false,
      }).addTo(groups.roads);
    });
    L.geoJSON(data.community, {
      style: {color: "#333", weight: 3, fill: false, className: "geogrid-community"},
      interactive: false,
    }).addTo(map);
    polygons(data, data.grids, groups.grids, function (p) {
      return {color: "#fff", weight: 2, fillColor: p.color, fillOpacity: 0.45, className: "geogrid-grid"};
    }, "网格", function (f, layer) {
      layer.bindTooltip(el("span", null, f.properties.name), {
        permanent: true, direction: "center", className: "grid-label",
      });
      labelled.push(layer);
    });
    map.on("zoomend", function () { declutter(labelled); });
    requestAnimationFrame(function () { declutter(labelled); });
    polygons(data, data.estates, groups.estates, function () {
      return {color: "#555", weight: 1, dashArray: "4 3", fill: false, className: "geogrid-estate"};
    }, "小区");
    polygons(data, data.buildings, groups.buildings, function () {
      return {color: "#444", weight: 1, fillColor: "#fff", fillOpacity: 0.6, className: "geogrid-building"};
    }, "楼栋");
    data.lanes.forEach(function (f) {
      var layer = L.geoJSON(f, {style: {color: "#8c564b", weight: 4, className: "geogrid-lane"}});
      layer.bindPopup(function () { return card(data, f.properties, "弄巷"); }, popupOptions());
      layer.bindTooltip(el("span", null, f.properties.name), {sticky: true});
      byCode[f.properties.code] = layer;
      layer.addTo(groups.lanes);
    });
    data.centres.forEach(function (f) {
      var p = f.properties;
      var at = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      L.circle(at, {radius: p.radius, color: "#888", weight: 1, fill: false, interactive: false,
                    className: "geogrid-radius"}).addTo(groups.radii);
      L.circleMarker(at, {radius: 6, color: "#c00", fill: true, className: "geogrid-centre"})
        .bindTooltip(el("span", null, p.name + "（" + p.kind + "，服务半径 " + p.radius + " 米）"))
        .addTo(groups.centres);
    });
    searchControl(map, entries(data.search || []).filter(function (e) { return byCode[e.code]; }));
    locateControl(map);
    /* After the page's opening zoom to the community, which starts on the
     * next frame: it ended on its own zoom and undid a #building= view (14,
     * not 18). A frame later it is running, if it runs at all. */
    requestAnimationFrame(function () {
      if (map._animatingZoom) map.once("zoomend", function () { followHash(map); });
      else followHash(map);
    });
    window.addEventListener("hashchange", function () { followHash(map); });
  }

  window.geogrid = {draw: draw, searchSite: searchSite, normalize: function (text) { return normalize(text); }};
})();
