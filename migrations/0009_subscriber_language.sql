-- The language a subscriber signed up in, so every later mail to them is in it (NULL: English).
ALTER TABLE "subscribers" ADD COLUMN "language" text;