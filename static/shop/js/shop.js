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
  /* Personalisation: keep the price, the dispatch date and the quoted surcharge current.
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
    var priceEl = document.querySelector("[data-mv-price]");
    var dispatchEl = document.querySelector("[data-mv-dispatch]");
    var base = priceEl ? Math.round(parseFloat(priceEl.getAttribute("data-mv-price")) * 100) : NaN;

    function field(name) {
      var el = form.elements[name];
      return el && el.value ? String(el.value).trim() : "";
    }
    function pence(amount) { return Math.round(parseFloat(amount || "0") * 100); }
    function money(p) { return "£" + (p / 100).toFixed(2); }
    function pick(kind, group, code) {
      var offer = data.offers[kind];
      return code && offer && offer.values && offer.values[group] ? offer.values[group][code] : null;
    }
    function longDate(iso) {
      var parts = String(iso || "").split("-");
      if (parts.length !== 3) { return ""; }
      var d = new Date(+parts[0], +parts[1] - 1, +parts[2]);
      return d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
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
      var style = pick("monogram", "style", field("style"));
      if (field("initials").replace(/[\s.]/g, "") && style) {
        add("monogram", [style, pick("monogram", "position", field("position"))]);
      }
      var thread = pick("thread", "colour", field("thread"));
      if (thread) { add("thread", [thread]); }
      var finish = pick("hardware", "finish", field("finish"));
      if (finish) { add("hardware", [finish]); }
      if (field("gift_message")) { add("gift_message", []); }

      if (quoted) { quoted.value = chosen.length ? (sum / 100).toFixed(2) : ""; }
      var when = data.dispatch_dates ? longDate(data.dispatch_dates[String(lead)]) : "";
      if (dispatchEl && when) { dispatchEl.textContent = when; }
      if (!totalEl) { return; }
      if (!chosen.length) { totalEl.hidden = true; return; }
      var text = "Personalisation " + (sum ? money(sum) : "at no charge");
      if (!isNaN(base)) { text += " \u00b7 " + money(base + sum) + " each"; }
      if (when) { text += " \u00b7 leaves the workshop on " + when; }
      totalEl.textContent = text;
      totalEl.hidden = false;
    }
    box.addEventListener("input", update);
    box.addEventListener("change", update);
    update();
  });
})();
