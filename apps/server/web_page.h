// The chat page served at GET /: one self-contained HTML file (no build step, no CDN).
#pragma once

namespace omnicoder::server {

extern const char kWebPage[];

}  // namespace omnicoder::server
