expectDetail('Incorrect username or password');
expectBearerChallenge();
