"""What a screen reader needs from the desk's pages that Streamlit's DOM does not give.

Today one thing: a Vega-Lite chart with no rows (a report over days with no flags, say) still
draws an empty mark group announced as a graphic with no name (axe: svg-img-alt). An empty
group shows nothing, so it is hidden from assistive technology; the chart's own bars, when
there are any, keep their labels.

The script runs in the page itself (st.html with JavaScript, not an iframe), once per page
load: its text never changes, so Streamlit does not run it again on a rerun.
"""

from __future__ import annotations

import streamlit as st

PAGE_SCRIPT = """<span class="dash-a11y-script" hidden></span><script>
(() => {
  if (window.__dashA11y) return;
  window.__dashA11y = true;
  let queued = false;
  const mark = () => {
    queued = false;
    for (const group of document.querySelectorAll("svg g.role-mark[role]")) {
      if (!group.childElementCount && !group.hasAttribute("aria-hidden")) {
        group.setAttribute("aria-hidden", "true");
      }
    }
  };
  const later = () => { if (!queued) { queued = true; requestAnimationFrame(mark); } };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
  later();
})();
</script>
<style>.stElementContainer:has(.dash-a11y-script) { display: none !important; }</style>"""


def follow_page() -> None:
    """Once a run, right after the page config."""
    st.html(PAGE_SCRIPT, unsafe_allow_javascript=True)
