"""NumFree: a second phone number, with calls, texts to email and app-to-app calling."""
