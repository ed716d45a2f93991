/* Marlow & Vale storefront: small progressive enhancements, no framework.
   Every feature works without this file: the menu opens as a link target, filters have an
   Apply button, gallery thumbnails link to the full image. */
(function () {
  "use strict";
  var doc = document.documentElement;
  doc.className = doc.className.replace(/\bno-js\b/, "js");

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  /* Menu and filter toggles on phones (without JavaScript they open as link targets). */
  each("[data-mv-menu], [data-mv-toggle]", function (toggle) {
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) { return; }
    toggle.setAttribute("role", "button");
    function setOpen(open) {
      nav.classList.toggle("is-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      var open = !nav.classList.contains("is-open");
      setOpen(open);
      if (open) {
        var first = nav.querySelector("input, a");
        if (first) { first.focus(); }
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  });

  /* "Print this page" buttons (hidden without JavaScript, where the browser's menu does it). */
  each("[data-mv-print]", function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  /* "Cancel" links of Oscar's account forms: back where the shopper came from (the link's own
     address without history or JavaScript). Replaces Oscar's onclick="history.go(-1)". */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-mv-back]");
    if (link && window.history.length > 1 && document.referrer) {
      event.preventDefault();
      window.history.back();
    }
  });

  /* Dismissable messages. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-mv-dismiss]");
    if (button) {
      var alert = button.closest(".mv-alert");
      if (alert) { alert.parentNode.removeChild(alert); }
    }
  });

  /* Listing filters: apply as soon as a select changes; leave "All" out of the address. */
  each("form[data-mv-autosubmit]", function (form) {
    function tidy() {
      each("select", function (select) {
        if (!select.value) { select.disabled = true; }
      }, form);
    }
    function apply() {
      tidy();
      form.submit();
    }
    form.addEventListener("submit", tidy);
    each("select", function (select) {
      select.addEventListener("change", apply);
    }, form);
    /* Back/forward cache: re-enable the selects we disabled before leaving. */
    window.addEventListener("pageshow", function () {
      each("select", function (select) { select.disabled = false; }, form);
    });
  });

  /* Product gallery: thumbnails swap the main picture; picking a colour shows its picture. */
  each("[data-mv-gallery]", function (gallery) {
    var main = gallery.querySelector("[data-mv-gallery-main]");
    var thumbs = gallery.querySelectorAll("[data-mv-thumb]");
    if (!main || !thumbs.length) { return; }
    function show(thumb) {
      main.src = thumb.getAttribute("data-src");
      main.alt = thumb.getAttribute("data-alt") || main.alt;
      each("[data-mv-thumb]", function (t) {
        t.setAttribute("aria-current", t === thumb ? "true" : "false");
      }, gallery);
    }
    Array.prototype.forEach.call(thumbs, function (thumb) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        show(thumb);
      });
    });
    var form = document.getElementById("add_to_basket_form");
    if (form) {
      form.addEventListener("change", function (event) {
        var input = event.target;
        if (input.name !== "child_id") { return; }
        var match = gallery.querySelector("[data-mv-thumb][data-child='" + input.value + "']");
        if (match) { show(match); }
      });
    }
  });
  /* Personalisation: keep the price, the dispatch date and the quoted surcharge current, say
     when the piece becomes made to order, and draw the monogram preview ([data-mv-preview]).
     Mirrors shop.personalization.rules.quote: an item costs its offer's surcharge plus its
     chosen values'; the longest lead time sets the date. The server checks the quote. */
  each("[data-mv-personalise]", function (box) {
    var source = document.getElementById("mv-personalisation-data");
    var form = box.closest("form");
    var data;
    try { data = JSON.parse(source ? source.textContent : "null"); } catch (e) { data = null; }
    if (!data || !data.offers || !form) { return; }
    var quoted = form.querySelector("input[name='quoted_surcharge']");
    var totalEl = box.querySelector("[data-mv-personalise-total]");
    var sayEl = box.querySelector("[data-mv-preview-text]");
    var priceEl = document.querySelector("[data-mv-price]");
    var dispatchEl = document.querySelector("[data-mv-dispatch]");
    var mtoEl = document.querySelector("[data-mv-mto]");
    var previews = document.querySelectorAll("[data-mv-preview]");
    var base = priceEl ? Math.round(parseFloat(priceEl.getAttribute("data-mv-price")) * 100) : NaN;
    var first = previews[0];
    var skinEl = first && first.querySelector("[data-mv-pv-leather]");
    var stitchEl = first && first.querySelector("[data-mv-pv-stitch]");
    var houseSkin = skinEl ? skinEl.getAttribute("fill") : "#8A4B2A";
    var houseThread = stitchEl ? stitchEl.getAttribute("stroke") : "#D8C3A0";
    var monogram = data.offers.monogram;
    var hasPositions = !!(monogram && monogram.values && monogram.values.position &&
      Object.keys(monogram.values.position).length);

    function field(name) {
      var el = form.elements[name];
      return el && el.value ? String(el.value).trim() : "";
    }
    function pence(amount) { return Math.round(parseFloat(amount || "0") * 100); }
    function money(p) { return "£" + (p / 100).toFixed(2); }
    function pick(kind, group, code) {
      var offer = data.offers[kind];
      return code && offer && offer.values && offer.values[group] ? offer.values[group][code] || null : null;
    }
    function longDate(iso) {
      var parts = String(iso || "").split("-");
      if (parts.length !== 3) { return ""; }
      var d = new Date(+parts[0], +parts[1] - 1, +parts[2]);
      return d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
    }

    /* Colours: "#rrggbb" mixed towards another colour by t (0..1), and how light one is. */
    function rgb(h) {
      var m = /^#([0-9a-f]{6})$/i.exec(h || "");
      if (!m) { return null; }
      var n = parseInt(m[1], 16);
      return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    }
    function mix(h, to, t) {
      var a = rgb(h), b = rgb(to);
      if (!a || !b) { return h; }
      return "#" + a.map(function (x, i) {
        return ("0" + Math.round(x + (b[i] - x) * t).toString(16)).slice(-2);
      }).join("");
    }
    function light(h) {
      var c = rgb(h);
      return c ? (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255 > 0.5 : false;
    }
    function set(root, selector, name, value) {
      each(selector, function (el) { el.setAttribute(name, value); }, root);
    }
    /* Where the mark sits: in the middle, at the front corner, near a belt's tip, or on the
       pocket inside (drawn smaller). */
    function place(code) {
      if (!hasPositions) { return { at: "translate(160 124)" }; }
      if (/inside/.test(code)) { return { at: "translate(160 137) scale(.7)", inside: true }; }
      if (/tip/.test(code)) { return { at: "translate(96 160) scale(.8)" }; }
      return { at: "translate(234 162) scale(.8)" };
    }

    function describe(s) {
      var bits = [], note = "";
      if (s.initials) {
        var mark = s.initials + " in " + (s.style ? s.style.label.toLowerCase() : "a style still to choose");
        if (s.position) { mark += ", " + s.position.label.toLowerCase(); }
        bits.push(mark);
        if (/[^A-Z]/.test(s.initials)) { note = " Only the letters A to Z can be stamped."; }
      } else if (monogram) {
        bits.push("no monogram");
      }
      if (data.offers.thread) { bits.push((s.thread ? s.thread.label.toLowerCase() : "natural") + " thread"); }
      if (s.finish) { bits.push(s.finish.label.toLowerCase() + " hardware"); }
      return "Preview: " + bits.join(", ") + "." + note;
    }

    function draw(s) {
      var picked = form.querySelector("input[name='child_id']:checked");
      var skin = (picked && picked.getAttribute("data-mv-leather")) || houseSkin;
      var where = place(s.positionCode);
      var foil = /foil|gold/.test(s.styleCode);
      var onSkin = light(skin) ? "#1E1B18" : "#F5F0E8";
      var label = s.position ? s.position.label : "";
      Array.prototype.forEach.call(previews, function (fig) {
        var pid = fig.getAttribute("data-mv-pid");
        fig.hidden = false;
        fig.classList.toggle("is-idle", !s.any);
        set(fig, "[data-mv-pv-leather]", "fill", skin);
        set(fig, "[data-mv-pv-stitch]", "stroke", (s.thread && s.thread.hex) || houseThread);
        set(fig, "[data-mv-pv-inside]", "display", where.inside ? "inline" : "none");
        set(fig, "[data-mv-pv-mark]", "transform", where.at);
        set(fig, "[data-mv-pv-ghost]", "display", s.initials ? "none" : "inline");
        set(fig, "[data-mv-pv-ghost]", "fill", where.inside ? "#5C544C" : onSkin);
        each("[data-mv-pv-initials]", function (text) {
          text.textContent = s.initials;
          text.setAttribute("fill", foil ? "url(#" + pid + "-gold)" : mix(skin, "#000000", light(skin) ? 0.42 : 0.32));
          text.setAttribute("filter", "url(#" + pid + (foil ? "-foil)" : "-deboss)"));
        }, fig);
        each("[data-mv-pv-label]", function (text) {
          text.textContent = label.toUpperCase();
          text.setAttribute("fill", where.inside ? "#1E1B18" : onSkin);
        }, fig);
        set(fig, "[data-mv-pv-hw]", "display", s.finish && s.finish.hex ? "inline" : "none");
        if (s.finish && s.finish.hex) {
          set(fig, "[data-mv-pv-metal='light']", "stop-color", mix(s.finish.hex, "#FFFFFF", 0.55));
          set(fig, "[data-mv-pv-metal='base']", "stop-color", s.finish.hex);
          set(fig, "[data-mv-pv-metal='dark']", "stop-color", mix(s.finish.hex, "#000000", 0.4));
          each("[data-mv-pv-hw-label]", function (text) {
            text.textContent = s.finish.label.toUpperCase();
            text.setAttribute("fill", where.inside ? "#1E1B18" : onSkin);
          }, fig);
        }
      });
      if (sayEl) {
        var words = describe(s);
        if (sayEl.textContent !== words) { sayEl.textContent = words; }
        sayEl.hidden = false;
      }
    }

    function update() {
      var sum = 0, lead = 0, chosen = [];
      function add(kind, values) {
        var offer = data.offers[kind];
        if (!offer) { return; }
        var s = pence(offer.surcharge), l = offer.lead_days || 0;
        values.forEach(function (v) {
          if (v) { s += pence(v.surcharge); l = Math.max(l, v.lead_days || 0); }
        });
        sum += s;
        lead = Math.max(lead, l);
        chosen.push(kind);
      }
      var initials = field("initials").replace(/[\s.]/g, "").toUpperCase().slice(0, 3);
      var style = pick("monogram", "style", field("style"));
      var position = pick("monogram", "position", field("position"));
      if (initials && style) { add("monogram", [style, position]); }
      var thread = pick("thread", "colour", field("thread"));
      if (thread) { add("thread", [thread]); }
      var finish = pick("hardware", "finish", field("finish"));
      if (finish) { add("hardware", [finish]); }
      if (field("gift_message")) { add("gift_message", []); }

      if (quoted) { quoted.value = chosen.length ? (sum / 100).toFixed(2) : ""; }
      var when = data.dispatch_dates ? longDate(data.dispatch_dates[String(lead)]) : "";
      if (dispatchEl && when) { dispatchEl.textContent = when; }
      if (mtoEl) {
        mtoEl.hidden = !chosen.some(function (kind) { return kind !== "gift_message"; });
      }
      draw({
        initials: initials, style: style, styleCode: field("style"),
        position: position, positionCode: field("position"), thread: thread, finish: finish,
        any: !!(initials || style || position || thread || finish)
      });
      if (!totalEl) { return; }
      if (!chosen.length) { totalEl.hidden = true; return; }
      var text = "Personalisation " + (sum ? money(sum) : "at no charge");
      if (!isNaN(base)) { text += " \u00b7 " + money(base + sum) + " each"; }
      /* The date is said here unless the form shows it itself (the basket line form). */
      if (when && !(dispatchEl && form.contains(dispatchEl))) { text += " \u00b7 leaves the workshop on " + when; }
      totalEl.textContent = text;
      totalEl.hidden = false;
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  });
})();
