// Reads a chosen manifest.json or catalog.json into the form's text field, so the file is
// sent with the form (pasting the JSON works without this script).
(function () {
  "use strict";
  for (const input of document.querySelectorAll("input[type=file][data-fills]")) {
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      const target = document.getElementById(input.dataset.fills);
      if (!file || !target) return;
      file.text().then(function (text) { target.value = text; });
    });
  }
})();
