// facekit's sorting page: the faces of /api/sort as a grid; a click or a
// key moves the chosen face into a person's folder (POST /api/sort/move).
"use strict";

const grid = document.getElementById("grid");
const peopleLine = document.getElementById("people");
const statusLine = document.getElementById("status");
let people = [];
let current = null;

function say(text, kind) {
  statusLine.textContent = text;
  statusLine.className = kind || "";
}

function choose(li) {
  if (current) current.classList.remove("current");
  current = li;
  if (li) {
    li.classList.add("current");
    li.scrollIntoView({ block: "nearest" });
  }
}

function drawPeople() {
  peopleLine.replaceChildren();
  people.forEach((name, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = (i < 9 ? (i + 1) + " " : "") + (name === "nonface" ? "not a face" : name);
    b.dataset.person = name;
    b.addEventListener("click", () => assign(name));
    peopleLine.appendChild(b);
  });
}

async function answer(r) {
  let a;
  try {
    a = await r.json();
  } catch (e) {
    throw new Error("the server answered " + r.status + " without JSON");
  }
  if (!r.ok) throw new Error(a.error + " (" + r.status + ")");
  return a;
}

async function load() {
  try {
    const a = await answer(await fetch("api/sort"));
    people = a.people;
    drawPeople();
    grid.replaceChildren();
    a.faces.forEach((f) => {
      const li = document.createElement("li");
      li.dataset.file = f.file;
      if (f.suggested) li.dataset.suggested = f.suggested;
      const img = document.createElement("img");
      img.src = "api/sort/face?" + new URLSearchParams({ file: f.file });
      img.alt = f.file;
      const cap = document.createElement("div");
      cap.textContent = (f.photo || "?") + (f.suggested ? " \u2192 " + f.suggested + "?" : "");
      li.append(img, cap);
      li.addEventListener("click", () => choose(li));
      grid.appendChild(li);
    });
    choose(grid.firstElementChild);
    say(a.faces.length + " faces to sort.");
  } catch (e) {
    say("Cannot list the faces: " + e.message, "error");
  }
}

async function assign(person) {
  const li = current;
  if (!li) {
    say("No face left to sort.");
    return;
  }
  try {
    const q = new URLSearchParams({ file: li.dataset.file, to: person });
    const a = await answer(await fetch("api/sort/move?" + q, { method: "POST" }));
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    choose(next);
    if (!people.includes(person)) {
      people.push(person);
      drawPeople();
    }
    say("Moved to " + a.to + "; " + grid.children.length + " left.");
  } catch (e) {
    say("Not moved: " + e.message, "error");
  }
}

document.getElementById("add").addEventListener("click", () => {
  const name = document.getElementById("newname").value.trim();
  if (name) assign(name);
});

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT") return;
  if (e.key >= "1" && e.key <= "9" && people[e.key - 1]) assign(people[e.key - 1]);
  else if (e.key === "Enter" && current && current.dataset.suggested) assign(current.dataset.suggested);
  else if (e.key === "ArrowRight" && current) choose(current.nextElementSibling || current);
  else if (e.key === "ArrowLeft" && current) choose(current.previousElementSibling || current);
  else return;
  e.preventDefault();
});

load();
