-- Issue 16, media: what a probe of the file's bytes found (container and codecs as ISO-BMFF sample entry names,
-- frames per second times 1000), filled at ingest; width, height and duration_ms already exist.
ALTER TABLE media ADD COLUMN container TEXT;
ALTER TABLE media ADD COLUMN video_codec TEXT;
ALTER TABLE media ADD COLUMN audio_codec TEXT;
ALTER TABLE media ADD COLUMN fps_milli BIGINT;
-- Per-post platform options (TikTok privacy and toggles, the Facebook video/reel choice) as a JSON object, and the
-- workspace defaults new posts start from.
ALTER TABLE posts ADD COLUMN platform_options TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tenants ADD COLUMN post_defaults TEXT NOT NULL DEFAULT '{}';
