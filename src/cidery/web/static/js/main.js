// The pages' scripts: each enhances what the server's HTML already does without them.
import { showConnection } from "./connection.js";
import { wireConversions, wireNetWeight, wireYieldPreview } from "./convert.js";
import { enhanceLoadForm } from "./loads.js";
import { workOffline } from "./offline.js";
import { wireGrowerSearch } from "./search.js";
import { startOutbox } from "./outbox.js";
import { wireVessels } from "./vessels.js";

showConnection();
wireConversions();
wireNetWeight();
wireYieldPreview();
wireGrowerSearch();
wireVessels();
const loadForm = document.getElementById("add-load");
if (loadForm) enhanceLoadForm(loadForm);
startOutbox();
workOffline();
