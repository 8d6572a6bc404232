-- One database per service: services never read each other's tables.
CREATE DATABASE booking;
CREATE DATABASE placements;
CREATE DATABASE notifications;
\connect booking
CREATE EXTENSION IF NOT EXISTS btree_gist;
