// The pages' scripts: each enhances what the server's HTML already does without them.
import { showConnection } from "./connection.js";
import { wireConversions, wireNetWeight, wireYieldPreview } from "./convert.js";
import { enhanceLoadForm } from "./loads.js";
import { workOffline } from "./offline.js";
import { wireGrowerSearch } from "./search.js";
import { afterAnswered, startOutbox } from "./outbox.js";
import { refreshRegions } from "./regions.js";
import { wireVessels } from "./vessels.js";

showConnection();
wireConversions();
wireNetWeight();
wireYieldPreview();
wireGrowerSearch();
wireVessels();
const loadForm = document.getElementById("add-load");
if (loadForm) enhanceLoadForm(loadForm);
// The runs list: its loads and kilograms once queued loads are sent from this page.
const runLists = ["runs-in-progress", "runs-completed"].filter((id) => document.getElementById(id));
if (runLists.length) afterAnswered(() => refreshRegions(runLists));
startOutbox();
workOffline();
