// Pan and zoom for the lineage drawing. Everything works without this script (the drawing
// scrolls, and its links expand nodes and highlight paths); it adds zoom buttons, Ctrl+wheel
// zoom, and dragging the drawing to pan.
(function () {
  "use strict";
  const frame = document.querySelector("[data-graph]");
  const svg = frame && frame.querySelector("svg");
  if (!svg) return;
  const width = svg.width.baseVal.value;
  const height = svg.height.baseVal.value;
  let scale = 1;

  function zoom(factor, cx, cy) {
    const next = Math.min(3, Math.max(0.1, scale * factor));
    const box = frame.getBoundingClientRect();
    const px = cx === undefined ? box.width / 2 : cx - box.left;
    const py = cy === undefined ? box.height / 2 : cy - box.top;
    const fx = (frame.scrollLeft + px) / scale;
    const fy = (frame.scrollTop + py) / scale;
    scale = next;
    svg.setAttribute("width", String(Math.round(width * scale)));
    svg.setAttribute("height", String(Math.round(height * scale)));
    frame.scrollLeft = fx * scale - px;
    frame.scrollTop = fy * scale - py;
  }

  function fit() {
    const box = frame.getBoundingClientRect();
    zoom(Math.min(box.width / width, Math.max(box.height, 300) / height, 1) / scale);
  }

  const bar = document.createElement("div");
  bar.className = "graph-zoom";
  for (const [label, act] of [["Zoom in", () => zoom(1.25)], ["Zoom out", () => zoom(0.8)], ["Fit", fit], ["Actual size", () => zoom(1 / scale)]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small";
    b.textContent = label;
    b.addEventListener("click", act);
    bar.appendChild(b);
  }
  frame.parentNode.insertBefore(bar, frame);

  frame.addEventListener("wheel", function (e) {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    zoom(e.deltaY > 0 ? 0.9 : 1.1, e.clientX, e.clientY);
  }, { passive: false });

  let drag = null;
  frame.addEventListener("pointerdown", function (e) {
    if (e.button !== 0 || e.target.closest("a")) return;
    drag = { x: e.clientX, y: e.clientY, left: frame.scrollLeft, top: frame.scrollTop };
    frame.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    frame.scrollLeft = drag.left - (e.clientX - drag.x);
    frame.scrollTop = drag.top - (e.clientY - drag.y);
  });
  window.addEventListener("pointerup", function () {
    drag = null;
    frame.classList.remove("dragging");
  });

  // Bring the dataset the page is about into view.
  const focus = svg.querySelector(".node-focus");
  if (focus) {
    const f = focus.getBoundingClientRect();
    const box = frame.getBoundingClientRect();
    frame.scrollLeft += f.left - box.left - box.width / 2 + f.width / 2;
    frame.scrollTop += f.top - box.top - box.height / 2 + f.height / 2;
  }
})();
