/* lotrack's only script: progressive enhancement of the bedside and patient pages. Every page
   works without it (a strict Content-Security-Policy applies: no inline script, no eval).

   - After an answer, keep it in view: scroll the GO / NO-GO (or a refused form) to the top and
     focus the next field without scrolling, so a phone never shows the thaw form instead of the
     most serious reason.
   - Keyboard-wedge scanners type the wristband and press Enter: move to the label field instead of
     submitting half a check.
   - The label's expiry bar code (ISBT 128 005, "&>" then 10 digits) scanned into the label field
     moves to the expiry field, and the label field waits for the DIN or the QR code.
   - A DIN in the label field is sent as scanned ("wedge": a Code 128 read, accepted without its
     check character) only when it arrived in a burst no person types; otherwise as typed, and
     the server asks for the check character.
   - Where the browser has BarcodeDetector and a camera, show the camera buttons: the code read
     fills its field; a label read submits the check.
   - A photo chosen for upload submits the check (decoded on the server).
   - On the adverse-event form, offer only the grades CTCAE defines for the chosen term (the
     server refuses any other). */
(function () {
  "use strict";

  function bedside(form) {
    var patient = form.querySelector("[data-wedge]");
    var label = form.querySelector("[data-label]");
    var method = form.querySelector("[data-method]");
    var photo = form.querySelector("[data-photo]");
    var expiry = form.querySelector("[data-expiry]");
    if (!patient || !label || !method) {
      return;
    }

    // Whichever of the label's codes the scanner reads first, each lands in its own field.
    label.addEventListener("keydown", function (event) {
      var text = label.value.trim();
      if (event.key === "Enter" && expiry && text.indexOf("&>") === 0) {
        event.preventDefault();
        expiry.value = text;
        label.value = "";
        typing = { first: 0, last: 0, count: 0, other: false };
        label.focus();
      }
    });
    if (expiry) {
      expiry.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !label.value.trim()) {
          event.preventDefault();
          label.focus();
        }
      });
    }

    patient.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !label.value.trim()) {
        event.preventDefault();
        label.focus();
      }
    });
    var typing = { first: 0, last: 0, count: 0, other: false };
    label.addEventListener("input", function (event) {
      var now = window.performance.now();
      if (method.value === "camera" || method.value === "photo") {
        method.value = "";
      }
      if (!label.value) {
        typing = { first: 0, last: 0, count: 0, other: false };
        return;
      }
      // A paste, a deletion or an autocompletion is a person's doing, never a scanner's burst.
      if (event.inputType && event.inputType !== "insertText") {
        typing.other = true;
      }
      typing.first = typing.first || now;
      typing.last = now;
      typing.count += 1;
    });
    form.addEventListener("submit", function () {
      if (!typing.count || method.value === "camera" || method.value === "photo") {
        return; // untouched since the page came: keep what it said
      }
      var text = label.value.replace(/\s+/g, "");
      if (text.indexOf("/") >= 0 || text.length > 16) {
        method.value = "wedge"; // a label's QR text: its signature is checked whoever typed it
        return;
      }
      // A scanner types a character every few milliseconds; a person takes ten times longer.
      var burst = !typing.other && typing.count >= text.length &&
        typing.last - typing.first <= text.length * 30;
      method.value = burst ? "wedge" : "typed";
    });
    if (photo) {
      photo.addEventListener("change", function () {
        if (photo.files && photo.files.length && patient.value.trim()) {
          method.value = "photo";
          form.submit();
        }
      });
    }
    camera(form, patient, label, method);
  }

  function camera(form, patient, label, method) {
    var buttons = form.querySelectorAll("[data-camera-for]");
    var view = form.querySelector("[data-camera-view]");
    var video = form.querySelector("[data-camera-video]");
    var stop = form.querySelector("[data-camera-stop]");
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia || !view || !video) {
      return; // the buttons stay hidden: scanner, typing or a photo instead
    }
    var stream = null;
    var timer = null;

    function close() {
      if (timer) {
        window.clearTimeout(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        stream = null;
      }
      video.srcObject = null;
      view.hidden = true;
    }

    function open(target) {
      var detector;
      try {
        detector = new window.BarcodeDetector();
      } catch (err) {
        return;
      }
      close();
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          view.hidden = false;
          return video.play();
        })
        .then(function () {
          var look = function () {
            if (!stream) {
              return;
            }
            detector.detect(video).then(function (codes) {
              var found = codes.filter(function (c) { return c.rawValue; });
              if (!found.length) {
                timer = window.setTimeout(look, 200);
                return;
              }
              // A label's QR code (its verification address) is preferred over its bar code.
              var best = found.filter(function (c) { return c.rawValue.indexOf("/v/") >= 0; })[0] ||
                found[0];
              close();
              target.value = best.rawValue;
              if (target === label) {
                method.value = "camera";
                if (patient.value.trim()) {
                  form.submit();
                } else {
                  patient.focus();
                }
              } else {
                label.focus();
              }
            }).catch(function () {
              timer = window.setTimeout(look, 400);
            });
          };
          look();
        })
        .catch(function () {
          close(); // no permission or no camera: the other ways remain
        });
    }

    Array.prototype.forEach.call(buttons, function (button) {
      var target = form.querySelector("[name='" + button.getAttribute("data-camera-for") + "']");
      if (!target) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () { open(target); });
    });
    if (stop) {
      stop.addEventListener("click", close);
    }
  }

  function ctcae(form) {
    var term = form.querySelector("[data-ctcae-term]");
    var grade = form.querySelector("[data-ctcae-grade]");
    if (!term || !grade) {
      return;
    }
    function chosenGrades() {
      // The term is typed against a <datalist>: the option whose value is the term names its grades.
      var list = term.list || document.getElementById(term.getAttribute("list"));
      var allowed = null;
      if (list) {
        Array.prototype.forEach.call(list.options, function (option) {
          if (option.value === term.value) {
            allowed = option.getAttribute("data-grades");
          }
        });
      } else if (term.options) {
        var chosen = term.options[term.selectedIndex];
        allowed = chosen && chosen.getAttribute("data-grades");
      }
      return allowed ? allowed.split(",") : null;
    }
    function limit() {
      var grades = chosenGrades();
      Array.prototype.forEach.call(grade.options, function (option) {
        var ok = !option.value || !grades || grades.indexOf(option.value) >= 0;
        option.hidden = !ok;
        option.disabled = !ok;
      });
      if (grade.selectedOptions.length && grade.selectedOptions[0].disabled) {
        grade.value = "";
      }
    }
    term.addEventListener("change", limit);
    term.addEventListener("input", limit);
    limit();
  }

  function answer() {
    var shown = document.querySelector("[data-scroll-to]");
    if (!shown) {
      return;
    }
    shown.scrollIntoView({ block: "start" });
    var next = document.querySelector("[data-focus-next]");
    if (next) {
      try {
        next.focus({ preventScroll: true }); // ready for the scanner, the answer stays in view
      } catch (err) {
        // an old browser without focus options: leave the focus where it is
      }
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-bedside-form]"), bedside);
  answer();
  Array.prototype.forEach.call(document.querySelectorAll("[data-ctcae-form]"), ctcae);
}());
