"""Files in and out (文件读写): readers, writers, validation and import reports; no database."""
