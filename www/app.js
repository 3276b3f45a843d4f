// facekit's page: send the dropped or picked photo to POST /api/faces and
// draw each face's box with its names.  Plain JavaScript, no library.
"use strict";

const drop = document.getElementById("drop");
const input = document.getElementById("file");
const statusLine = document.getElementById("status");
const result = document.getElementById("result");
const img = document.getElementById("img");
const photo = document.getElementById("photo");
const list = document.getElementById("faces");

function say(text, kind) {
  statusLine.textContent = text;
  statusLine.className = kind || "";
}

function percent(v, whole) {
  return (100 * v / whole) + "%";
}

function show(answer) {
  const w = answer.image.width, h = answer.image.height;
  photo.querySelectorAll(".box").forEach((b) => b.remove());
  list.replaceChildren();
  answer.faces.forEach((face, i) => {
    const best = face.predictions[0];
    const box = document.createElement("div");
    box.className = "box";
    box.style.left = percent(face.box.x, w);
    box.style.top = percent(face.box.y, h);
    box.style.width = percent(face.box.w, w);
    box.style.height = percent(face.box.h, h);
    if (face.angle) box.style.transform = "rotate(" + face.angle + "deg)";
    const label = document.createElement("span");
    label.textContent = (i + 1) + ". " + best.label + " " + best.probability.toFixed(2);
    box.appendChild(label);
    photo.appendChild(box);

    const item = document.createElement("li");
    const table = document.createElement("table");
    face.predictions.forEach((p) => {
      const row = table.insertRow();
      row.insertCell().textContent = p.label;
      const c = row.insertCell();
      c.className = "p";
      c.textContent = p.probability.toFixed(3);
    });
    item.appendChild(table);
    list.appendChild(item);
  });
  const n = answer.faces.length;
  say(n === 0 ? "No face found in this photo." :
      n + (n === 1 ? " face" : " faces") + " named by " + answer.model +
      " in " + Math.round(answer.elapsed_ms) + " ms.");
}

async function send(file) {
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const query = new URLSearchParams({ k: "3" });
  if (document.getElementById("eyes").checked) query.set("eyes", "1");
  if (document.getElementById("rotate").checked) query.set("rotate", "1");
  say("Looking for faces in " + file.name + "...", "busy");
  result.hidden = true;
  let answer;
  try {
    const r = await fetch("api/faces?" + query, { method: "POST", body: form });
    const text = await r.text();
    try {
      answer = JSON.parse(text);
    } catch (e) {
      throw new Error("the server answered " + r.status + " without JSON");
    }
    if (!r.ok) {
      if (r.status === 503) throw new Error("The server is busy; try again in a moment (" + answer.error + ").");
      throw new Error("The server refused the photo (" + r.status + "): " + answer.error);
    }
  } catch (e) {
    say(e instanceof TypeError ? "The server cannot be reached: " + e.message : e.message, "error");
    return;
  }
  const url = URL.createObjectURL(file);
  img.onload = () => URL.revokeObjectURL(url);
  img.onerror = () => {  // a netpbm photo: the browser cannot show it, the boxes still can
    img.removeAttribute("src");
    img.style.aspectRatio = answer.image.width + " / " + answer.image.height;
    img.style.background = "#ccc";
  };
  img.style.aspectRatio = "";
  img.style.background = "";
  img.src = url;
  result.hidden = false;
  show(answer);
}

input.addEventListener("change", () => send(input.files[0]));
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
  e.preventDefault();
  drop.classList.add("over");
}));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  const files = e.dataTransfer.files;
  if (files.length === 0) say("That was not a file: drop a photo.", "error");
  else send(files[0]);
});
