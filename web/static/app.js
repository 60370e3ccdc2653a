// Small progressive enhancements for every page; the pages work without them.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var lang = root.getAttribute("lang") || "pt-BR";

  // Show times in the reader's own time zone and language.
  var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  window.tftFormatTime = function (iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? iso : format.format(date);
  };
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    node.textContent = window.tftFormatTime(node.getAttribute("datetime"));
  });

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  var forOther = document.getElementById("for_other");
  var beneficiary = document.getElementById("beneficiary");
  if (forOther && beneficiary) {
    var sync = function () {
      if (forOther.checked) { beneficiary.removeAttribute("data-collapsed"); }
      else { beneficiary.setAttribute("data-collapsed", ""); }
    };
    forOther.addEventListener("change", sync);
    sync();
  }

  // Put the keyboard where the work is: the first invalid field of a form shown again.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) { invalid.focus(); }
})();
