-- Blob content out of line and uncompressed, so a media range reads only the TOAST chunks it
-- covers. Rows written before keep their (possibly compressed) form and stay readable.
ALTER TABLE credentials_blobs ALTER COLUMN content SET STORAGE EXTERNAL;
