// The document's LSTM script, in C#:
//
//   model = Sequential()
//   model.add(LSTM(units=64, input_shape=(10, 1), return_sequences=True))
//   model.add(Dense(1, activation='linear'))
//   model.compile(optimizer='adam', loss='mse')
//   model.fit(X_train, y_train, epochs=10, batch_size=32)
//
// trained on noisy sine waves: each step's target is the clean value one step ahead.
using SeqSharp;
using SeqSharp.Examples;
using SeqSharp.Layers;

Utils.SetRandomSeed(42);
var (xTrain, yTrain) = SineWaveData.Generate(samples: 2000);
var (xTest, yTest) = SineWaveData.Generate(samples: 200);

var model = new Sequential();
model.Add(new LSTM(units: 64, inputShape: [10, 1], returnSequences: true));
model.Add(new Dense(1, activation: "linear"));
model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
model.Summary();

History history = model.Fit(xTrain, yTrain, epochs: 10, batchSize: 32, validationSplit: 0.1);

Report.Print(history, model, xTest, yTest);
