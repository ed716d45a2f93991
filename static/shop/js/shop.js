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
})();
