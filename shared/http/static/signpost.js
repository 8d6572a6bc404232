// Small enhancements: every page works without them.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  const said = document.querySelector(`[data-copied="${button.dataset.copy}"]`);
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(field.value);
    if (said) said.textContent = "Copied.";
  });
});

// A student's place in a drop-in queue, kept up to date from the queue API; without this
// script the page shows the same on a refresh.
document.querySelectorAll("[data-queue-status]").forEach((status) => {
  const seconds = Number(status.dataset.pollSeconds || "5");
  const show = (html) => {
    if (status.innerHTML !== html) status.innerHTML = html;
  };
  const poll = async () => {
    try {
      const answer = await fetch(status.dataset.queueStatus, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (answer.status === 404) {
        show("<p>You are no longer in this queue.</p>");
        return;
      }
      if (!answer.ok) return;
      const place = (await answer.json()).waiting[0];
      if (place.status === "called") {
        const where = status.dataset.location;
        const turn = document.createElement("p");
        turn.className = "turn";
        turn.innerHTML = "<strong>It is your turn.</strong> ";
        turn.append(`Go to ${where} now.`);
        show(turn.outerHTML);
        return;
      }
      show(`<p>You are <strong data-queue-position>number ${Number(place.position)}</strong> in the queue.</p>`);
    } catch {
      // offline for a moment: try again on the next tick
    }
    window.setTimeout(poll, seconds * 1000);
  };
  window.setTimeout(poll, seconds * 1000);
});

// A matching run's page follows the run until it ends, then shows its results.
document.querySelectorAll("[data-run-status]").forEach((section) => {
  const bar = section.querySelector("progress");
  const label = section.querySelector(`label[for="${bar.id}"]`);
  const said = section.querySelector("[data-run-said]");
  const poll = async () => {
    const response = await fetch(section.dataset.runStatus, { credentials: "same-origin" });
    if (!response.ok) return;
    const run = await response.json();
    if (run.status !== "running") {
      window.location.reload();
      return;
    }
    bar.max = run.total || 1;
    bar.value = run.done;
    bar.textContent = `${run.percent}%`;
    label.textContent = run.stage;
    said.textContent = `Running: ${run.stage.toLowerCase()} (${run.percent}%).`;
    window.setTimeout(poll, 700);
  };
  window.setTimeout(poll, 300);
});
