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
